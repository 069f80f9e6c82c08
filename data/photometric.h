// Colour operations on 8-bit RGB images with the exact semantics of the libraries the papers
// used, and the conversion of an image to the normalised float CHW layout nets consume.
//
// CIFReNet's jitter, as torchvision's functional ops do it on PIL images (docs/cifrenet.md,
// "Training recipe of the authors' code"):
//  - gamma γ:        v → floor(255.999 · (v/255)^γ)                     (torchvision adjust_gamma)
//  - saturation f:   blend(gray, image, f), gray = PIL luma (19595R + 38470G + 7471B + 2^15) >> 16
//  - contrast f:     blend(mean, image, f), mean = round(mean luma of the image)
//    with PIL's blend out = trunc(a + f·(b − a)) clipped to 0..255 (ImageEnhance).
#pragma once

#include "core/tensor.h"
#include "data/image.h"

namespace rtseg::data {

void adjust_gamma(Image& rgb, double gamma);
void adjust_saturation(Image& rgb, double factor);
void adjust_contrast(Image& rgb, double factor);
uint8_t pil_luma(uint8_t r, uint8_t g, uint8_t b);

enum class Normalization {
  ImageNet,     // RGB, (v/255 − mean)/std, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225):
                // PIDNet, ICFRNet
  CifrenetBGR,  // channels B, G, R; (v − mean)/255 with mean (73.16, 82.91, 72.39) in BGR order:
                // CIFReNet
  Unit,         // RGB, v/255
};

// Writes the 3×H×W float planes of an RGB image to `out` (3·H·W floats).
void normalize_into(const Image& rgb, Normalization mode, float* out);
// The same as a contiguous float32 tensor [3, H, W].
Tensor to_tensor(const Image& rgb, Normalization mode);

}  // namespace rtseg::data
