// Resize (bilinear both align_corners modes, nearest) and softmax/log_softmax on the GPU against
// the CPU references, forward and backward, float32 and float64.
//
// Tolerances. Resize: the CUDA kernels take the sample positions and weights from the same
// functions as the CPU reference and round every product and sum once, in the CPU loop's order
// (the backward gathers in the order the CPU scatter adds), so the expected difference is 0; the
// bound allows ~8 ulps (rtol 1e-6 fp32, 2e-15 fp64) plus an atol for sums that cancel to ~0,
// so that a genuine mismatch (a tap on another pixel, a missed or double-counted output) —
// an O(1) error — still fails. Softmax: expf/logf on the GPU differ from glibc by ≤ 2 ulps and
// the sums over C run in the same order (thread-per-row kernel) or a tree order (block kernel),
// so 1e-5 relative for fp32 (1e-12 fp64) with an atol of 1e-6 (1e-13) for log-softmax values
// and gradients that cancel to near 0.
#include "../test_support.h"
#include "gpu_compare.h"

using namespace rtseg;
using namespace rtseg::testing;

namespace {

struct ResizeCase {
  Shape in;
  int64_t out_h, out_w;
};

double resize_rtol(DType dt) { return dt == DType::F32 ? 1e-6 : 2e-15; }
double resize_atol(DType dt) { return dt == DType::F32 ? 1e-6 : 1e-14; }

void compare_bilinear(const ResizeCase& c, bool align_corners, DType dt, Generator& gen) {
  INFO(shape_str(c.in) << " -> " << c.out_h << "x" << c.out_w << " align_corners " << align_corners
                       << " " << dtype_name(dt));
  Tensor x = random_input(c.in, gen, -1, 1, dt);
  compare_op(
      [&](const std::vector<Tensor>& t) {
        return interpolate_bilinear(t[0], c.out_h, c.out_w, align_corners);
      },
      {x}, resize_rtol(dt), resize_atol(dt));
}

void compare_nearest(const ResizeCase& c, DType dt, Generator& gen) {
  INFO(shape_str(c.in) << " -> " << c.out_h << "x" << c.out_w << " nearest " << dtype_name(dt));
  Tensor x = random_input(c.in, gen, -1, 1, dt);
  compare_op(
      [&](const std::vector<Tensor>& t) { return interpolate_nearest(t[0], c.out_h, c.out_w); },
      {x}, resize_rtol(dt), resize_atol(dt));
}

}  // namespace

TEST_CASE("bilinear resize on the GPU: the nets' shapes", "[gpu][resize]") {
  Generator gen(11);
  // The class count only multiplies the planes, which the kernels treat alike: the emulated
  // device takes 2 of the 19 (its run of the full-resolution case dominated the suite).
  const int64_t classes = kEmulatedDevice ? 2 : 19;
  for (DType dt : {DType::F32, DType::F64}) {
    // PIDNet's ×8 logits upsampling to full Cityscapes resolution (align_corners true).
    compare_bilinear({{2, classes, 128, 256}, 1024, 2048}, true, dt, gen);
    // ICFRNet's 45×80 → 360×640, both modes.
    compare_bilinear({{1, classes, 45, 80}, 360, 640}, true, dt, gen);
    compare_bilinear({{2, classes, 45, 80}, 360, 640}, false, dt, gen);
    // The I-branch resizes (align_corners false).
    compare_bilinear({{2, 32, 64, 128}, 128, 256}, false, dt, gen);
    compare_bilinear({{1, 32, 16, 32}, 128, 256}, false, dt, gen);
  }
}

TEST_CASE("bilinear resize on the GPU: odd sizes, up and down", "[gpu][resize]") {
  Generator gen(12);
  const std::vector<ResizeCase> cases = {{{2, 3, 97, 131}, 200, 301}, {{1, 5, 97, 131}, 31, 47},
                                         {{2, 3, 97, 131}, 97, 131},  {{1, 3, 97, 131}, 1, 1},
                                         {{2, 1, 1, 1}, 7, 9},        {{1, 2, 5, 3}, 97, 131},
                                         {{2, 3, 97, 131}, 13, 262},  {{1, 1, 33, 17}, 1, 5}};
  for (DType dt : {DType::F32, DType::F64}) {
    for (const ResizeCase& c : cases) {
      for (bool ac : {true, false}) compare_bilinear(c, ac, dt, gen);
    }
  }
}

TEST_CASE("nearest resize on the GPU", "[gpu][resize]") {
  Generator gen(13);
  const std::vector<ResizeCase> cases = {
      {{2, 19, 45, 80}, 360, 640}, {{1, 4, 64, 128}, 128, 256},  // ×2: PyTorch's exact shortcut
      {{2, 3, 97, 131}, 97, 131},  {{2, 3, 97, 131}, 50, 300},
      {{1, 3, 97, 131}, 1, 1},     {{1, 2, 7, 5}, 97, 131}};
  for (DType dt : {DType::F32, DType::F64}) {
    for (const ResizeCase& c : cases) compare_nearest(c, dt, gen);
  }
}

TEST_CASE("resize reads non-contiguous GPU views", "[gpu][resize]") {
  Generator gen(14);
  Tensor x = random_input({2, 7, 33, 45}, gen, -1, 1, DType::F32);
  compare_op(
      [](const std::vector<Tensor>& t) {
        return interpolate_bilinear(narrow(t[0], 1, 2, 3), 80, 61, false);
      },
      {x}, resize_rtol(DType::F32), resize_atol(DType::F32));
}

TEST_CASE("softmax and log_softmax on the GPU", "[gpu][softmax]") {
  Generator gen(15);
  struct SoftmaxCase {
    Shape shape;
    int64_t dim;
  };
  const std::vector<SoftmaxCase> cases = {
      {{2, 19, 97, 131}, 1},  // the hot case: classes of NCHW logits, a thread per pixel
      {{1, 19, 45, 80}, 1},  {{3, 5, 7, 9}, 0}, {{3, 5, 7, 9}, 2},
      {{3, 5, 7, 300}, -1},  // contiguous rows of 300: a block per row
      {{7, 1000}, 1},        {{5, 33}, -1},     {{4, 127}, 1},  // just below the block path
      {{1, 1, 5}, 1},        {{2, 3, 0, 4}, 1}};
  for (DType dt : {DType::F32, DType::F64}) {
    const double rtol = dt == DType::F32 ? 1e-5 : 1e-12;
    const double atol = dt == DType::F32 ? 1e-6 : 1e-13;
    for (const SoftmaxCase& c : cases) {
      INFO(shape_str(c.shape) << " dim " << c.dim << " " << dtype_name(dt));
      // Logits spread over [−8, 8] so the max subtraction matters and probabilities span decades.
      Tensor x = random_input(c.shape, gen, -8, 8, dt);
      const int64_t dim = c.dim;
      compare_op([dim](const std::vector<Tensor>& t) { return softmax(t[0], dim); }, {x}, rtol,
                 atol);
      compare_op([dim](const std::vector<Tensor>& t) { return log_softmax(t[0], dim); }, {x}, rtol,
                 atol);
    }
  }
}

TEST_CASE("softmax on the GPU reads non-contiguous views and huge logits", "[gpu][softmax]") {
  Generator gen(16);
  Tensor x = random_input({2, 21, 17, 19}, gen, -1, 1, DType::F32);
  compare_op([](const std::vector<Tensor>& t) { return softmax(narrow(t[0], 1, 1, 19), 1); }, {x},
             1e-5, 1e-6);
  // 1e4-sized logits overflow exp without the max subtraction.
  Tensor big = Tensor::from_doubles({1e4, 1e4 - 1, -1e4, 3e4, 3e4, 0}, {2, 3}, DType::F32);
  big.set_requires_grad(true);
  compare_op([](const std::vector<Tensor>& t) { return log_softmax(t[0], 1); }, {big}, 1e-5, 1e-6);
}
