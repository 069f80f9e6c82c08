// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
// length N, N bytes of UTF-8 JSON mapping each tensor name to {dtype, shape, data_offsets} (plus an
// optional "__metadata__" map of strings), then the data section. Offsets are relative to the
// data section and the tensors must tile it exactly (from 0, no gaps, no overlaps). Everything is
// validated before any tensor is handed out, so a bad file is one clear error, never a crash and
// never a half-loaded model.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace rtseg {

constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;  // the reference implementation's limit

struct SafetensorsEntry {
  std::string dtype;  // as in the file: "F32", "BF16", ...
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte range in the data section
};

class SafetensorsFile {
 public:
  // Parses and validates a whole file held in memory; `source` names it in error messages.
  static SafetensorsFile parse(std::vector<uint8_t> bytes, const std::string& source);
  static SafetensorsFile read(const std::string& path);

  // Names in data order.
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  const SafetensorsEntry& entry(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // The tensor as an rtseg CPU tensor: F32/F64/I64/U8 as they are; F16 and BF16 widened to
  // float32; I32/I16/I8/U16/U32/BOOL widened to int64. Other dtypes are an error.
  Tensor tensor(const std::string& name) const;

 private:
  std::string source_;
  std::vector<uint8_t> bytes_;
  uint64_t data_start_ = 0;
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

// Writes `tensors` (any device; copied to host) in the given order, with optional metadata, to
// `path` atomically: a temporary file in the same folder, then a rename, so a crash never leaves
// a truncated file under the final name.
void write_safetensors(const std::string& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// Bytes of a safetensors file, for writers that need them in memory.
std::vector<uint8_t> encode_safetensors(const std::vector<std::pair<std::string, Tensor>>& tensors,
                                        const std::map<std::string, std::string>& metadata = {});

// Writes bytes to `path` through a temporary file and a rename.
void write_file_atomically(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace rtseg
