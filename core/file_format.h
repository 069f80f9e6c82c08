// What a file that should have been safetensors is instead, from its first bytes: a PyTorch
// checkpoint (zip or pickle), an image, a NumPy or HDF5 array, a text file. Used to turn "header
// length 85966670672 exceeds the limit" into "this is a PyTorch checkpoint: convert it".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rtseg {

// A description with what to do, e.g. "a PyTorch checkpoint (a zip archive, torch.save): convert
// it with `rtseg convert`"; empty when the bytes look like none of the known formats.
std::string describe_foreign_format(const uint8_t* bytes, size_t size);

// Whether the bytes start as torch.save writes: a zip archive, a pickle, or the old tar format
// (give at least 512 bytes where there are).
bool looks_like_pytorch_checkpoint(const uint8_t* bytes, size_t size);

}  // namespace rtseg
