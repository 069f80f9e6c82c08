#include "data/complexity.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/dispatch.h"
#include "data/data_error.h"
#include "data/image_io.h"
#include "data/png_codec.h"

namespace rtseg::data {

// ---- precomputed maps

std::string complexity_map_path(const std::string& folder, const std::string& name) {
  return join_path(folder, name + ".png");
}

FloatMap read_complexity_png(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file(path);
  if (!png::is_png(bytes.data(), bytes.size())) {
    data_fail(DataErrorKind::Format, "{}: complexity maps must be 8-bit gray PNG files", path);
  }
  const png::Raw raw = png::decode_raw(bytes.data(), bytes.size(), path);
  const png::Header& h = raw.header;
  // value/255 is only the convention's meaning for 8-bit gray samples: refuse anything else
  // rather than guess a scale (a 16-bit or palette file is a different producer's format).
  if (h.color_type != png::Gray || h.bit_depth != 8) {
    data_fail(DataErrorKind::Format,
              "{}: complexity maps must be 8-bit gray PNGs (value/255), this one has colour type "
              "{} and bit depth {}",
              path, h.color_type, h.bit_depth);
  }
  FloatMap map(h.width, h.height);
  for (size_t i = 0; i < raw.samples.size(); ++i) map.values[i] = float(raw.samples[i]) / 255.0f;
  return map;
}

void write_complexity_png(const std::string& path, const FloatMap& map) {
  std::vector<uint16_t> samples(map.values.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const float v = std::clamp(map.values[i], 0.0f, 1.0f);
    samples[i] = uint16_t(std::lround(v * 255.0f));
  }
  write_file(path, png::encode(map.width, map.height, png::Gray, 8, samples));
}

void attach_complexity(Sample& sample, const std::string& folder) {
  const std::string path = complexity_map_path(folder, sample.name);
  FloatMap map = read_complexity_png(path);
  if (map.width != sample.image.width || map.height != sample.image.height) {
    data_fail(DataErrorKind::SizeMismatch,
              "{}: complexity map is {}×{} but image '{}' is {}×{} (maps are made on the full "
              "image, before any augmentation)",
              path, map.width, map.height, sample.name, sample.image.width, sample.image.height);
  }
  sample.complexity = std::move(map);
}

ComplexityFolderDataset::ComplexityFolderDataset(std::shared_ptr<const Dataset> base,
                                                 std::string folder)
    : base_(std::move(base)), folder_(std::move(folder)) {
  RTSEG_CHECK(base_ != nullptr, "ComplexityFolderDataset: no base dataset");
  info_ = base_->info();
}

Sample ComplexityFolderDataset::get(size_t index) const {
  Sample s = base_->get(index);
  attach_complexity(s, folder_);
  return s;
}

std::string ComplexityFolderDataset::describe(size_t index) const {
  return base_->describe(index) + " + complexity " + folder_;
}

// ---- the analytic proxy

namespace {

int auto_radius(int64_t h, int64_t w) {
  const double r = std::round(double(std::min(h, w)) / 32.0);
  return std::max(1, int(r));
}

// One image: channels C×H×W in, H×W out. Accumulates in double (the integral image of the
// energy would lose the small values of flat regions in float).
template <typename T>
void proxy_image(const T* img, int64_t c, int64_t h, int64_t w, int radius, double knee, T* out) {
  const int64_t hw = h * w;
  std::vector<double> gray(size_t(hw), 0.0);
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t i = 0; i < hw; ++i) gray[size_t(i)] += double(img[ch * hw + i]);
  }
  for (double& v : gray) v /= double(c);
  auto at = [&](int64_t y, int64_t x) { return gray[size_t(y * w + x)]; };
  // Central differences, one-sided at the borders (so a flipped image has mirrored slopes).
  auto slope = [](double before, double after, int64_t span) {
    return span == 0 ? 0.0 : (after - before) / double(span);
  };
  // Integral image of the gradient energy, (h+1)×(w+1).
  std::vector<double> integral(size_t((h + 1) * (w + 1)), 0.0);
  for (int64_t y = 0; y < h; ++y) {
    double row = 0;
    for (int64_t x = 0; x < w; ++x) {
      const int64_t x0 = std::max<int64_t>(x - 1, 0), x1 = std::min<int64_t>(x + 1, w - 1);
      const int64_t y0 = std::max<int64_t>(y - 1, 0), y1 = std::min<int64_t>(y + 1, h - 1);
      const double gx = slope(at(y, x0), at(y, x1), x1 - x0);
      const double gy = slope(at(y0, x), at(y1, x), y1 - y0);
      row += gx * gx + gy * gy;
      integral[size_t((y + 1) * (w + 1) + x + 1)] = integral[size_t(y * (w + 1) + x + 1)] + row;
    }
  }
  auto box = [&](int64_t ya, int64_t xa, int64_t yb, int64_t xb) {  // [ya, yb) × [xa, xb)
    const auto I = [&](int64_t y, int64_t x) { return integral[size_t(y * (w + 1) + x)]; };
    return I(yb, xb) - I(ya, xb) - I(yb, xa) + I(ya, xa);
  };
  for (int64_t y = 0; y < h; ++y) {
    const int64_t ya = std::max<int64_t>(y - radius, 0), yb = std::min<int64_t>(y + radius + 1, h);
    for (int64_t x = 0; x < w; ++x) {
      const int64_t xa = std::max<int64_t>(x - radius, 0);
      const int64_t xb = std::min<int64_t>(x + radius + 1, w);
      // The window is clipped to the image and averaged over what remains, so borders are not
      // darkened by phantom zero pixels.
      const double energy = std::max(0.0, box(ya, xa, yb, xb) / double((yb - ya) * (xb - xa)));
      const double g = std::sqrt(energy);
      out[y * w + x] = T(g / (g + knee));
    }
  }
}

}  // namespace

Tensor proxy_complexity(const Tensor& images, const ProxyOptions& options) {
  const char* op = "proxy_complexity";
  RTSEG_CHECK(images.defined() && images.dim() == 4 && images.size(1) >= 1,
              "{}: images must be N×C×H×W, got {}", op,
              images.defined() ? images.describe() : std::string("an undefined tensor"));
  RTSEG_CHECK(images.device().is_cpu(), "{}: images must be on the CPU, got {}", op,
              images.describe());
  RTSEG_CHECK(options.radius >= 0 && options.knee > 0,
              "{}: radius must be ≥ 0 and knee > 0, got {} and {}", op, options.radius,
              options.knee);
  const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  const int radius = options.radius > 0 ? options.radius : auto_radius(h, w);
  const Tensor x = as_contiguous(images);
  Tensor out = Tensor::empty({n, 1, h, w}, images.dtype());
  RTSEG_DISPATCH_FLOATING(images.dtype(), op, [&] {
    for (int64_t i = 0; i < n; ++i) {
      proxy_image<scalar_t>(x.data<scalar_t>() + i * c * h * w, c, h, w, radius, options.knee,
                            out.data<scalar_t>() + i * h * w);
    }
  });
  return out;
}

// ---- choosing a source by name

ComplexitySourceKind parse_complexity_source(const std::string& name) {
  if (name == "teacher") return ComplexitySourceKind::Teacher;
  if (name == "precomputed") return ComplexitySourceKind::Precomputed;
  if (name == "proxy") return ComplexitySourceKind::Proxy;
  fail("complexity source '{}' is unknown; choose teacher, precomputed or proxy", name);
}

const char* complexity_source_name(ComplexitySourceKind kind) {
  switch (kind) {
    case ComplexitySourceKind::Teacher:
      return "teacher";
    case ComplexitySourceKind::Precomputed:
      return "precomputed";
    case ComplexitySourceKind::Proxy:
      return "proxy";
  }
  return "?";
}

ComplexitySource::ComplexitySource(ComplexityConfig config, TeacherFn teacher)
    : config_(std::move(config)),
      kind_(parse_complexity_source(config_.source)),
      teacher_(std::move(teacher)) {
  RTSEG_CHECK(kind_ != ComplexitySourceKind::Teacher || teacher_,
              "complexity source 'teacher' needs a function that runs the IC9600 teacher");
  RTSEG_CHECK(kind_ != ComplexitySourceKind::Precomputed || !config_.folder.empty(),
              "complexity source 'precomputed' needs the folder of the <name>.png maps");
  RTSEG_CHECK(config_.proxy.radius >= 0 && config_.proxy.knee > 0,
              "complexity source 'proxy': radius must be ≥ 0 and knee > 0, got {} and {}",
              config_.proxy.radius, config_.proxy.knee);
}

std::shared_ptr<const Dataset> ComplexitySource::wrap_dataset(
    std::shared_ptr<const Dataset> base) const {
  if (kind_ != ComplexitySourceKind::Precomputed) return base;
  return std::make_shared<ComplexityFolderDataset>(std::move(base), config_.folder);
}

Tensor ComplexitySource::maps(const Batch& batch) const {
  const Tensor& images = batch.images;
  RTSEG_CHECK(images.defined() && images.dim() == 4,
              "complexity source '{}': the batch has no N×C×H×W images", config_.source);
  const Shape expected{images.size(0), 1, images.size(2), images.size(3)};
  Tensor out;
  switch (kind_) {
    case ComplexitySourceKind::Teacher:
      out = teacher_(images.detach());
      break;
    case ComplexitySourceKind::Precomputed:
      RTSEG_CHECK(batch.complexity.defined(),
                  "complexity source 'precomputed': batch {} carries no complexity maps (wrap the "
                  "dataset with ComplexitySource::wrap_dataset or ComplexityFolderDataset)",
                  batch.number);
      out = batch.complexity;
      break;
    case ComplexitySourceKind::Proxy:
      out = batch.complexity.defined()
                ? batch.complexity
                : proxy_complexity(images.detach().to(Device::cpu()), config_.proxy)
                      .to(images.device());
      break;
  }
  RTSEG_CHECK(out.defined() && out.shape() == expected,
              "complexity source '{}': maps must be {} for images {}, got {}", config_.source,
              shape_str(expected), images.describe(),
              out.defined() ? out.describe() : std::string("an undefined tensor"));
  return out.detach().to(DType::F32);
}

void ComplexitySource::attach_host_maps(Batch& batch) const {
  if (kind_ != ComplexitySourceKind::Proxy || !batch.images.defined()) return;
  RTSEG_CHECK(batch.images.device().is_cpu(),
              "complexity source 'proxy': attach_host_maps needs a host "
              "batch, got images {}",
              batch.images.describe());
  batch.complexity = proxy_complexity(batch.images, config_.proxy);
}

std::string ComplexitySource::describe() const {
  switch (kind_) {
    case ComplexitySourceKind::Teacher:
      return "complexity: teacher (IC9600 ICNet, frozen, eval, no grad; each crop resized to "
             "512x512, its 64x64 map resized back, bilinear)";
    case ComplexitySourceKind::Precomputed:
      return "complexity: precomputed (8-bit PNG maps " +
             complexity_map_path(config_.folder, "<name>") +
             ", value/255, warped with each sample's scale/crop/flip)";
    case ComplexitySourceKind::Proxy: {
      const std::string r = config_.proxy.radius > 0 ? std::to_string(config_.proxy.radius)
                                                     : std::string("auto = min(H,W)/32");
      return fmt::format(
          "complexity: proxy -- an APPROXIMATION, not IC9600's learnt measure: box-filtered "
          "local gradient energy (radius {}), c = g/(g + {})",
          r, config_.proxy.knee);
    }
  }
  return "complexity: ?";
}

}  // namespace rtseg::data
