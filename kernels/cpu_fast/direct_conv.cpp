#include "kernels/cpu_fast/direct_conv.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/cpu_fast/onednn_blocks.h"
#include "kernels/cpu_fast/onednn_runtime.h"
#include "kernels/cpu_fast/thread_pool.h"

namespace rtseg::cpu_fast {

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr memory::data_type kF32 = memory::data_type::f32;

// The input a block of output rows [o0, o1) reads: rows [i0, i1) and columns [0, cols) of each
// channel, with the padding around them that this block sees.
struct Window {
  int64_t o0, o1, i0, i1, cols;
  int64_t pad_top, pad_bottom, pad_left, pad_right;
};

Window window_of(const Conv2dGeometry& g, int64_t o0, int64_t o1) {
  Window v{};
  v.o0 = o0, v.o1 = o1;
  const int64_t first = o0 * g.stride_h - g.pad_h;
  const int64_t last = (o1 - 1) * g.stride_h - g.pad_h + (g.r - 1) * g.dil_h;
  v.i0 = std::max<int64_t>(0, first), v.i1 = std::min(g.h, last + 1);
  v.pad_top = v.i0 - first, v.pad_bottom = last + 1 - v.i1;
  const int64_t last_col = (g.ow - 1) * g.stride_w - g.pad_w + (g.s - 1) * g.dil_w;
  v.cols = std::min(g.w, last_col + 1);  // columns no output reads are left out
  v.pad_left = g.pad_w, v.pad_right = last_col + 1 - v.cols;
  return v;
}

// One block geometry's primitive and the reorders around it.
struct BlockConv {
  dnnl::convolution_forward primitive;
  memory::desc src, weights, dst, bias, scratchpad;
  dnnl::reorder pack;                    // the block's input rows, NCHW → the primitive's layout
  dnnl::reorder unpack;                  // the block's output rows → NCHW
  dnnl::reorder pack_residual;           // the residual's rows → the output's layout (if any)
  dnnl::reorder weight_reorder;          // OIHW → the primitive's weight layout
  memory::desc input_rows, output_rows;  // those rows in the NCHW tensors (strided views)
};

// Everything a block's primitive depends on: the conv's shape, the block's rows and padding,
// whether it has a bias and a residual, its epilogue.
using BlockKey = std::array<int64_t, 22>;

BlockKey key_of(const Conv2dGeometry& g, const Window& v, bool bias, bool residual,
                ConvEpilogue e) {
  return {g.c,          g.k,
          g.h,          g.w,
          g.oh,         g.ow,
          g.r,          g.s,
          g.stride_h,   g.stride_w,
          g.dil_h,      g.dil_w,
          v.i1 - v.i0,  v.cols,
          v.o1 - v.o0,  v.pad_top,
          v.pad_bottom, v.pad_left,
          v.pad_right,  bias,
          residual,     static_cast<int64_t>(e)};
}

// The residual is a sum post-op (added to conv + bias before the activation): its rows are packed
// into the output block first, and the kernel accumulates onto them.
dnnl::post_ops post_ops_of(ConvEpilogue e, bool residual) {
  dnnl::post_ops ops;
  if (residual) ops.append_sum(1.0f);
  if (e == ConvEpilogue::None) return ops;
  const dnnl::algorithm alg =
      e == ConvEpilogue::Relu ? dnnl::algorithm::eltwise_relu : dnnl::algorithm::eltwise_clip;
  const float upper = e == ConvEpilogue::Relu ? 0.0f : 6.0f;  // relu: alpha (slope) 0
#if DNNL_VERSION_MAJOR >= 3
  ops.append_eltwise(alg, 0.0f, upper);
#else
  ops.append_eltwise(1.0f, alg, 0.0f, upper);
#endif
  return ops;
}

// The primitive of one block geometry, or null where oneDNN has only its reference or GEMM
// implementations for it (im2col is then as good) or refuses it.
std::unique_ptr<BlockConv> create(const BlockKey& key) {
  const auto [c, k, h, w, oh, ow, r, s, sh, sw, dh, dw, rows_in, cols_in, rows_out, pt, pb, pl, pr,
              has_bias, has_residual, epilogue_value] = key;
  const auto epilogue = static_cast<ConvEpilogue>(epilogue_value);
  const memory::dims src{1, c, rows_in, cols_in}, wei{k, c, r, s}, dst{1, k, rows_out, ow};
  const auto any = [](const memory::dims& d) { return memory::desc(d, kF32, Tag::any); };
  const memory::desc bias_desc = has_bias ? memory::desc({k}, kF32, Tag::x) : memory::desc();
  const memory::dims strides{sh, sw}, dilates{dh - 1, dw - 1}, pad_l{pt, pl}, pad_r{pb, pr};
  const dnnl::engine& engine = onednn_engine();
  try {
    dnnl::primitive_attr attr;
    attr.set_post_ops(post_ops_of(epilogue, has_residual));
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const auto prop = dnnl::prop_kind::forward_inference;
    const auto alg = dnnl::algorithm::convolution_direct;
#if DNNL_VERSION_MAJOR >= 3
    const dnnl::convolution_forward::primitive_desc pd(engine, prop, alg, any(src), any(wei),
                                                       bias_desc, any(dst), strides, dilates, pad_l,
                                                       pad_r, attr);
#else
    const dnnl::convolution_forward::desc d =
        has_bias ? dnnl::convolution_forward::desc(prop, alg, any(src), any(wei), bias_desc,
                                                   any(dst), strides, dilates, pad_l, pad_r)
                 : dnnl::convolution_forward::desc(prop, alg, any(src), any(wei), any(dst), strides,
                                                   dilates, pad_l, pad_r);
    const dnnl::convolution_forward::primitive_desc pd(d, attr, engine);
#endif
    if (!is_direct_jit(pd.impl_info_str())) return nullptr;
    auto out = std::make_unique<BlockConv>();
    out->src = pd.src_desc(), out->weights = pd.weights_desc(), out->dst = pd.dst_desc();
    out->bias = bias_desc, out->scratchpad = pd.scratchpad_desc();
    out->primitive = dnnl::convolution_forward(pd);
    // The rows a block reads and writes, in place in the NCHW image (row offsets are added to
    // the pointers).
    out->input_rows = memory::desc(src, kF32, memory::dims{c * h * w, h * w, w, 1});
    out->output_rows = memory::desc(dst, kF32, memory::dims{k * oh * ow, oh * ow, ow, 1});
    out->pack = make_reorder(out->input_rows, out->src);
    out->unpack = make_reorder(out->dst, out->output_rows);
    if (has_residual) out->pack_residual = make_reorder(out->output_rows, out->dst);
    out->weight_reorder = make_reorder(memory::desc(wei, kF32, Tag::oihw), out->weights);
    return out;
  } catch (const dnnl::error&) {
    return nullptr;
  }
}

const BlockConv* block_conv(const BlockKey& key) { return cached_block<BlockConv>(key, create); }

// One task: pack the block's input rows (reorders zero the padded channels of a blocked layout,
// which meet zero weights and must not be NaN) and its residual rows, convolve, unpack its output
// rows.
void run_block(const BlockConv& conv, const Window& v, float* y, const float* x,
               const float* weights, const float* bias, const float* residual,
               const Conv2dGeometry& g) {
  onednn_single_threaded();
  const dnnl::engine& engine = onednn_engine();
  dnnl::stream& stream = onednn_thread_stream();
  memory input(conv.input_rows, engine, const_cast<float*>(x + v.i0 * g.w));
  memory src(conv.src, engine, block_scratch(0, conv.src.get_size()));
  memory dst(conv.dst, engine, block_scratch(1, conv.dst.get_size()));
  memory output(conv.output_rows, engine, y + v.o0 * g.ow);
  conv.pack.execute(stream, input, src);
  if (residual != nullptr) {
    memory rows(conv.output_rows, engine, const_cast<float*>(residual + v.o0 * g.ow));
    conv.pack_residual.execute(stream, rows, dst);
  }
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, src},
      {DNNL_ARG_WEIGHTS, memory(conv.weights, engine, const_cast<float*>(weights))},
      {DNNL_ARG_DST, dst},
      {DNNL_ARG_SCRATCHPAD,
       memory(conv.scratchpad, engine, block_scratch(2, conv.scratchpad.get_size() + 1))}};
  if (bias != nullptr)
    args.emplace(DNNL_ARG_BIAS, memory(conv.bias, engine, const_cast<float*>(bias)));
  conv.primitive.execute(stream, args);
  conv.unpack.execute(stream, dst, output);
  stream.wait();
}

// RTSEG_CPU_DIRECT_CONV=0 turns the direct kernels off (to compare with im2col).
std::atomic<bool> g_enabled{[] {
  const char* v = std::getenv("RTSEG_CPU_DIRECT_CONV");
  return v == nullptr || std::string(v) != "0";
}()};

}  // namespace

void set_direct_conv_enabled(bool enabled) { g_enabled = enabled; }
bool direct_conv_enabled() { return g_enabled; }

bool direct_conv_forward(float* y, const float* x, const float* w, const float* bias,
                         const float* residual, const Conv2dGeometry& g, ConvEpilogue epilogue) {
  if (g.groups != 1 || g.n <= 0 || g.oh <= 0 || g.ow <= 0) return false;
  onednn_single_threaded();  // primitives are created for the thread count they will run on
  const int64_t per_block = rows_per_block(g.oh, g.ow), blocks = blocks_ceil_div(g.oh, per_block);
  std::vector<Window> windows;
  std::vector<const BlockConv*> convs;
  for (int64_t o0 = 0; o0 < g.oh; o0 += per_block) {
    const Window v = window_of(g, o0, std::min(g.oh, o0 + per_block));
    if (v.i1 <= v.i0 || v.cols <= 0) return false;  // a block that reads only padding
    const BlockConv* conv =
        block_conv(key_of(g, v, bias != nullptr, residual != nullptr, epilogue));
    if (conv == nullptr) return false;
    windows.push_back(v);
    convs.push_back(conv);
  }
  PackedWeights packed(w, {g.k, g.c, g.r, g.s});
  std::vector<const float*> weights_of;
  for (const BlockConv* conv : convs)
    weights_of.push_back(packed.in(conv->weights, conv->weight_reorder));
  const int64_t plane_in = g.c * g.h * g.w, plane_out = g.k * g.oh * g.ow;
  parallel_for(g.n * blocks, [&](int64_t t) {
    const int64_t n = t / blocks, b = t % blocks;
    run_block(*convs[static_cast<size_t>(b)], windows[static_cast<size_t>(b)], y + n * plane_out,
              x + n * plane_in, weights_of[static_cast<size_t>(b)], bias,
              residual != nullptr ? residual + n * plane_out : nullptr, g);
  });
  return true;
}

}  // namespace rtseg::cpu_fast
