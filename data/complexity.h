// Sources of the per-pixel image-complexity pseudo-labels ICFRNet learns from
// (docs/icfrnet.md, "Pseudo-labels" and "Open choices" #10), chosen by name in the config:
//
//  "teacher"     — the IC9600 ICNet run online on every augmented, normalised training crop
//                  (nets/icnet_teacher.h: teacher_complexity). The data layer does not link the
//                  nets, so the caller hands the source a function that runs the teacher.
//  "precomputed" — one 8-bit gray PNG per image, <folder>/<sample name>.png, value/255, made
//                  offline on the full images (e.g. by IC9600's gene.py). The maps are attached
//                  to the samples by the dataset side (attach_complexity, ComplexityFolderDataset)
//                  and follow the image through scale, crop, pad and flip like any other map, so
//                  they reach the batch as Batch::complexity. (An approximation of the teacher
//                  on the crop: the teacher sees the whole image at 512×512, not the crop.)
//  "proxy"       — an analytic APPROXIMATION of image complexity, no model and no files: the
//                  box-filtered local gradient energy of the crop, squashed to [0, 1). It is not
//                  IC9600's measure (which is learnt from human ratings); it only shares its
//                  gross behaviour (flat → ~0, textured/edgy → high). Useful for smoke runs and
//                  ablations without the teacher's weights.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/tensor.h"
#include "data/dataset.h"
#include "data/loader.h"

namespace rtseg::data {

// ---- precomputed maps

// "<folder>/<name>.png".
std::string complexity_map_path(const std::string& folder, const std::string& name);
// An 8-bit single-channel PNG as a map of value/255. DataError (MissingFile / Corrupt / Format)
// naming the file otherwise; 16-bit PNGs are refused (the convention is 8-bit).
FloatMap read_complexity_png(const std::string& path);
// round(clamp(v, 0, 1)·255) as an 8-bit gray PNG (for tools and tests).
void write_complexity_png(const std::string& path, const FloatMap& map);
// Sets sample.complexity from <folder>/<sample.name>.png; its size must equal the image's
// (SizeMismatch DataError naming both otherwise). Call it in a dataset's get(), before any
// transform, so that the map follows the sample's geometry.
void attach_complexity(Sample& sample, const std::string& folder);

// Any dataset, with the complexity maps of `folder` attached to its samples.
class ComplexityFolderDataset : public Dataset {
 public:
  ComplexityFolderDataset(std::shared_ptr<const Dataset> base, std::string folder);
  size_t size() const override { return base_->size(); }
  Sample get(size_t index) const override;
  std::string describe(size_t index) const override;

 private:
  std::shared_ptr<const Dataset> base_;
  std::string folder_;
};

// ---- the analytic proxy (an approximation, see above)

struct ProxyOptions {
  // Box filter radius in pixels (window 2r+1); 0 = automatic, max(1, round(min(H, W)/32)) —
  // about the footprint of one cell of the teacher's 1/8-resolution map after its own smoothing.
  int radius = 0;
  // c = g/(g + knee), g the box-filtered RMS gradient in the units of the input tensor (for
  // ImageNet-normalised images 0.1 ≈ 6 gray levels per pixel), so c = 0.5 at g = knee.
  double knee = 0.1;
};

// images: N×C×H×W float32/float64 on the CPU (any normalisation; channels are averaged first).
// Returns N×1×H×W in [0, 1) of the same dtype: g² = box mean of (∂x I)² + (∂y I)² with central
// differences (one-sided at the border), c = g/(g + knee). Left-right symmetric, so it commutes
// with horizontal flips.
Tensor proxy_complexity(const Tensor& images, const ProxyOptions& options = {});

// ---- choosing a source by name

enum class ComplexitySourceKind { Teacher, Precomputed, Proxy };
// "teacher", "precomputed" or "proxy"; anything else is an Error listing the three.
ComplexitySourceKind parse_complexity_source(const std::string& name);
const char* complexity_source_name(ComplexitySourceKind kind);

struct ComplexityConfig {
  std::string source = "teacher";
  std::string folder;  // precomputed: the folder of <name>.png maps
  ProxyOptions proxy;
};

class ComplexitySource {
 public:
  // Runs the teacher on a batch of normalised crops N×3×H×W, returning N×1×H×W maps (for
  // example [&](const Tensor& x) { return teacher_complexity(teacher, x); }).
  using TeacherFn = std::function<Tensor(const Tensor& images)>;

  // A "teacher" source needs `teacher`; a "precomputed" one needs config.folder.
  explicit ComplexitySource(ComplexityConfig config, TeacherFn teacher = {});

  ComplexitySourceKind kind() const { return kind_; }
  // precomputed: the dataset wrapped in a ComplexityFolderDataset; otherwise `base` itself.
  std::shared_ptr<const Dataset> wrap_dataset(std::shared_ptr<const Dataset> base) const;
  // The batch's complexity maps, N×1×H×W float32 in [0, 1], detached: the teacher's output,
  // the batch's precomputed maps (which must be there), or the proxy of the batch's images.
  Tensor maps(const Batch& batch) const;
  // On the host batch, before it moves to the device: the proxy's maps, computed on the CPU
  // where the images are (instead of copying device images back every step). Others: nothing.
  void attach_host_maps(Batch& batch) const;
  // One line for the training log, saying where the maps come from (and, for the proxy, that it
  // is an approximation).
  std::string describe() const;

 private:
  ComplexityConfig config_;
  ComplexitySourceKind kind_;
  TeacherFn teacher_;
};

}  // namespace rtseg::data
