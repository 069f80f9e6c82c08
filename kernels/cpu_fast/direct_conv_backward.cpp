// The input gradient of a dense convolution through oneDNN's direct backward-data kernels, by
// blocks of input rows: a block's task takes the output-gradient rows that reach its input rows,
// runs one single-threaded primitive whose padding places those rows (padding rows are other
// blocks' rows, whose gradients that primitive drops), and writes only its own rows, so the bits
// do not depend on the thread count. The same layout scheme as the forward (direct_conv.cpp).
#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/cpu_fast/direct_conv.h"
#include "kernels/cpu_fast/onednn_blocks.h"
#include "kernels/cpu_fast/onednn_runtime.h"
#include "kernels/cpu_fast/thread_pool.h"

namespace rtseg::cpu_fast {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr memory::data_type kF32 = memory::data_type::f32;

// A block of input rows [i0, i1): the output rows [o0, o1) that read any of them, and the rows
// [i0, i0 + rows) and columns [0, cols) that some output reads (the rest get zero gradients),
// with the padding that places them in the block's sub-problem.
struct InputBlock {
  int64_t i0 = 0, i1 = 0, rows = 0, cols = 0, o0 = 0, o1 = 0;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
};

// False where the geometry does not fit the scheme (a stride longer than the kernel's reach).
bool input_block(const Conv2dGeometry& g, int64_t i0, int64_t i1, InputBlock& b) {
  b.i0 = i0, b.i1 = i1;
  const int64_t reach_h = (g.r - 1) * g.dil_h;
  const int64_t first = i0 + g.pad_h - reach_h;  // o·stride ≥ first for an output to reach i0
  b.o0 = first <= 0 ? 0 : blocks_ceil_div(first, g.stride_h);
  b.o1 = std::min(g.oh, (i1 - 1 + g.pad_h) / g.stride_h + 1);
  if (b.o1 <= b.o0) return true;  // no output reads these rows: rows = 0
  b.pad_top = i0 + g.pad_h - b.o0 * g.stride_h;
  if (b.pad_top < 0) return false;
  const int64_t last = (b.o1 - 1) * g.stride_h - g.pad_h + reach_h;
  b.rows = std::min(i1, last + 1) - i0;
  b.pad_bottom = last + 1 - (i0 + b.rows);
  const int64_t last_col = (g.ow - 1) * g.stride_w - g.pad_w + (g.s - 1) * g.dil_w;
  b.cols = std::min(g.w, last_col + 1);
  b.pad_left = g.pad_w, b.pad_right = last_col + 1 - b.cols;
  return b.rows > 0 && b.cols > 0;
}

struct BlockGrad {
  dnnl::convolution_backward_data primitive;
  memory::desc diff_src, weights, diff_dst, scratchpad;
  dnnl::reorder pack;    // the block's output-gradient rows, NCHW → the primitive's layout
  dnnl::reorder unpack;  // the block's input-gradient rows → NCHW
  dnnl::reorder weight_reorder;        // OIHW → the primitive's weight layout
  memory::desc grad_rows, input_rows;  // those rows in the NCHW tensors (strided views)
};

using BlockKey = std::array<int64_t, 19>;

BlockKey key_of(const Conv2dGeometry& g, const InputBlock& b) {
  return {g.c,         g.k,        g.h,          g.w,        g.oh,       g.ow,   g.r,
          g.s,         g.stride_h, g.stride_w,   g.dil_h,    g.dil_w,    b.rows, b.cols,
          b.o1 - b.o0, b.pad_top,  b.pad_bottom, b.pad_left, b.pad_right};
}

std::unique_ptr<BlockGrad> create(const BlockKey& key) {
  const auto [c, k, h, w, oh, ow, r, s, sh, sw, dh, dw, rows, cols, out_rows, pt, pb, pl, pr] = key;
  const memory::dims src{1, c, rows, cols}, wei{k, c, r, s}, dst{1, k, out_rows, ow};
  const auto any = [](const memory::dims& d) { return memory::desc(d, kF32, Tag::any); };
  const memory::dims strides{sh, sw}, dilates{dh - 1, dw - 1}, pad_l{pt, pl}, pad_r{pb, pr};
  const dnnl::engine& engine = onednn_engine();
  const auto alg = dnnl::algorithm::convolution_direct;
  try {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
#if DNNL_VERSION_MAJOR >= 3
    const dnnl::convolution_forward::primitive_desc hint(engine, dnnl::prop_kind::forward_training,
                                                         alg, any(src), any(wei), any(dst), strides,
                                                         dilates, pad_l, pad_r);
    const dnnl::convolution_backward_data::primitive_desc pd(
        engine, alg, any(src), any(wei), any(dst), strides, dilates, pad_l, pad_r, hint, attr);
#else
    const dnnl::convolution_forward::primitive_desc hint(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, alg, any(src), any(wei),
                                        any(dst), strides, dilates, pad_l, pad_r),
        engine);
    const dnnl::convolution_backward_data::primitive_desc pd(
        dnnl::convolution_backward_data::desc(alg, any(src), any(wei), any(dst), strides, dilates,
                                              pad_l, pad_r),
        attr, engine, hint);
#endif
    if (!is_direct_jit(pd.impl_info_str())) return nullptr;
    auto out = std::make_unique<BlockGrad>();
    out->diff_src = pd.diff_src_desc(), out->weights = pd.weights_desc();
    out->diff_dst = pd.diff_dst_desc(), out->scratchpad = pd.scratchpad_desc();
    out->primitive = dnnl::convolution_backward_data(pd);
    out->grad_rows = memory::desc(dst, kF32, memory::dims{k * oh * ow, oh * ow, ow, 1});
    out->input_rows = memory::desc(src, kF32, memory::dims{c * h * w, h * w, w, 1});
    out->pack = make_reorder(out->grad_rows, out->diff_dst);
    out->unpack = make_reorder(out->diff_src, out->input_rows);
    out->weight_reorder = make_reorder(memory::desc(wei, kF32, Tag::oihw), out->weights);
    return out;
  } catch (const dnnl::error&) {
    return nullptr;
  }
}

const BlockGrad* block_grad(const BlockKey& key) { return cached_block<BlockGrad>(key, create); }

// The input-gradient rows and columns of a block that no output reads are zero.
void zero_unread(float* dx, const InputBlock& b, const Conv2dGeometry& g) {
  for (int64_t ch = 0; ch < g.c; ++ch) {
    float* plane = dx + ch * g.h * g.w;
    for (int64_t row = b.i0; row < b.i0 + b.rows; ++row)
      std::fill(plane + row * g.w + b.cols, plane + (row + 1) * g.w, 0.0f);
    std::fill(plane + (b.i0 + b.rows) * g.w, plane + b.i1 * g.w, 0.0f);
  }
}

void run_block(const BlockGrad* grad, const InputBlock& b, float* dx, const float* dy,
               const float* weights, const Conv2dGeometry& g) {
  zero_unread(dx, b, g);
  if (grad == nullptr) return;  // rows = 0: all zero
  onednn_single_threaded();
  const dnnl::engine& engine = onednn_engine();
  dnnl::stream& stream = onednn_thread_stream();
  memory rows_in(grad->grad_rows, engine, const_cast<float*>(dy + b.o0 * g.ow));
  memory diff_dst(grad->diff_dst, engine, block_scratch(0, grad->diff_dst.get_size()));
  memory diff_src(grad->diff_src, engine, block_scratch(1, grad->diff_src.get_size()));
  memory rows_out(grad->input_rows, engine, dx + b.i0 * g.w);
  grad->pack.execute(stream, rows_in, diff_dst);
  grad->primitive.execute(
      stream, {{DNNL_ARG_DIFF_DST, diff_dst},
               {DNNL_ARG_WEIGHTS, memory(grad->weights, engine, const_cast<float*>(weights))},
               {DNNL_ARG_DIFF_SRC, diff_src},
               {DNNL_ARG_SCRATCHPAD, memory(grad->scratchpad, engine,
                                            block_scratch(2, grad->scratchpad.get_size() + 1))}});
  grad->unpack.execute(stream, diff_src, rows_out);
  stream.wait();
}

}  // namespace

bool direct_conv_backward_input(float* dx, const float* dy, const float* w,
                                const Conv2dGeometry& g) {
  if (g.groups != 1 || g.n <= 0 || g.h <= 0 || g.w <= 0 || g.oh <= 0 || g.ow <= 0) return false;
  onednn_single_threaded();
  const int64_t per_block = rows_per_block(g.h, g.w), blocks = blocks_ceil_div(g.h, per_block);
  std::vector<InputBlock> parts;
  std::vector<const BlockGrad*> grads;
  for (int64_t i0 = 0; i0 < g.h; i0 += per_block) {
    InputBlock b;
    if (!input_block(g, i0, std::min(g.h, i0 + per_block), b)) return false;
    const BlockGrad* grad = nullptr;
    if (b.rows > 0) {
      grad = block_grad(key_of(g, b));
      if (grad == nullptr) return false;
    }
    parts.push_back(b);
    grads.push_back(grad);
  }
  PackedWeights packed(w, {g.k, g.c, g.r, g.s});
  std::vector<const float*> weights_of;
  for (const BlockGrad* grad : grads)
    weights_of.push_back(grad ? packed.in(grad->weights, grad->weight_reorder) : nullptr);
  const int64_t image_in = g.c * g.h * g.w, image_out = g.k * g.oh * g.ow;
  parallel_for(g.n * blocks, [&](int64_t t) {
    const size_t b = static_cast<size_t>(t % blocks);
    const int64_t n = t / blocks;
    run_block(grads[b], parts[b], dx + n * image_in, dy + n * image_out, weights_of[b], g);
  });
  return true;
}

}  // namespace rtseg::cpu_fast
