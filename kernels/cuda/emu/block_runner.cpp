// Kernel execution on the emulated device: launch-configuration checks as the hardware makes
// them, then the grid block by block, each block's threads with real SIMT semantics.
//
// A block starts as a plain loop over its threads on one fiber (most kernels have no barrier, and
// need nothing more). The first barrier or warp primitive "promotes" the block: the thread that
// called it keeps the loop's fiber, the threads after it get fibers of their own, the threads
// before it have exited. From then on every primitive is a real rendezvous:
//  - __syncthreads waits for every thread of the block; reaching it after a thread exited, or a
//    thread exiting while others wait, is a fault;
//  - warp primitives wait for the lanes the mask names; a mask without the caller, naming lanes
//    the block does not have or that exited, lanes disagreeing on the mask or the primitive, or a
//    shuffle reading a lane outside the mask, is a fault;
//  - no runnable thread while some have not exited is a deadlock, a fault.
// Faults name the kernel, the block and the thread, and become the device's sticky error.
#include <algorithm>
#include <cstdio>
#include <deque>
#include <memory>
#include <sstream>
#include <vector>

#include "kernels/cuda/emu/coverage.h"
#include "kernels/cuda/emu/fiber.h"
#include "kernels/cuda/emu/runtime_state.h"
#include "kernels/cuda/emu/sanitizer.h"
#include "rtseg_emu_device.h"

__thread uint3 threadIdx{0, 0, 0};
__thread uint3 blockIdx{0, 0, 0};
__thread dim3 blockDim{1, 1, 1};
__thread dim3 gridDim{1, 1, 1};

namespace rtseg::emu {

namespace {

constexpr size_t kDefaultSharedLimit = 48 * 1024;  // without cudaFuncSetAttribute's opt-in
constexpr unsigned char kSharedPoison = 0xFF;      // NaN in float and double
#ifndef RTSEG_EMU_ASAN
constexpr size_t kSharedGuard = 64;  // without ASan, a sentinel tail catches overruns
#else
constexpr size_t kSharedGuard = 0;  // with ASan, the exact-size buffer's redzone does
#endif
constexpr unsigned char kGuardByte = 0xA5;

enum class State : uint8_t { NotStarted, Runnable, AtBarrier, AtWarp, Exited };

struct Thread {
  State state = State::NotStarted;
  uint64_t warp_result = 0;
};

struct Rendezvous {
  bool open = false;
  unsigned exited = 0;  // lanes of this warp that have exited
  WarpOp op = WarpOp::SyncWarp;
  unsigned mask = 0, arrived = 0;
  int width = 32;
  int first_lane = 0;
  uint64_t value[32] = {};
  int arg[32] = {};
};

struct Block {
  const LaunchConfig* config = nullptr;
  const std::function<void()>* body = nullptr;
  int nthreads = 0;
  int current = 0;  // linear index of the running thread
  bool promoted = false;
  int loop_thread = -1;  // the thread that kept the loop's fiber
  int exited = 0, at_barrier = 0;
  std::vector<Thread> threads;
  std::vector<Rendezvous> warps;
  std::deque<int> ready;      // threads to run, in order: not started, or released from a wait
  std::vector<Fiber> fibers;  // by thread; the loop fiber is separate
  Fiber loop;
  std::string fault;
};

thread_local Block* t_block = nullptr;
thread_local unsigned char* t_shared = nullptr;

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::ShflDown:
      return "__shfl_down_sync";
    case WarpOp::ShflUp:
      return "__shfl_up_sync";
    case WarpOp::ShflXor:
      return "__shfl_xor_sync";
    case WarpOp::ShflIdx:
      return "__shfl_sync";
    case WarpOp::Ballot:
      return "__ballot_sync";
    case WarpOp::All:
      return "__all_sync";
    case WarpOp::Any:
      return "__any_sync";
    case WarpOp::SyncWarp:
      return "__syncwarp";
  }
  return "?";
}

std::string hex(unsigned v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

std::string thread_name(const Block& b, int t) {
  const dim3 d = b.config->block;
  std::ostringstream s;
  s << "thread (" << t % d.x << "," << (t / d.x) % d.y << "," << t / (d.x * d.y) << ")";
  return s.str();
}

void set_thread_index(const Block& b, int t) {
  const dim3 d = b.config->block;
  const unsigned u = static_cast<unsigned>(t);
  threadIdx =
      d.y == 1 && d.z == 1 ? uint3{u, 0, 0} : uint3{u % d.x, (u / d.x) % d.y, u / (d.x * d.y)};
}

[[noreturn]] void fault(const Block& b, const std::string& what) {
  throw KernelFault{thread_name(b, b.current) + ": " + what};
}

Block& running_block(const char* primitive) {
  if (!t_block) {
    std::fprintf(stderr, "rtseg CUDA emulator: %s called outside a kernel\n", primitive);
    std::abort();
  }
  return *t_block;
}

void promote(Block& b) {
  b.promoted = true;
  b.threads.assign(static_cast<size_t>(b.nthreads), Thread{});
  for (int t = 0; t < b.current; ++t) b.threads[static_cast<size_t>(t)].state = State::Exited;
  b.exited = b.current;
  b.threads[static_cast<size_t>(b.current)].state = State::Runnable;
  b.loop_thread = b.current;
  b.ready.clear();
  for (int t = b.current + 1; t < b.nthreads; ++t) b.ready.push_back(t);
  b.warps.assign(static_cast<size_t>((b.nthreads + 31) / 32), Rendezvous{});
  for (int t = 0; t < b.current; ++t) b.warps[static_cast<size_t>(t / 32)].exited |= 1u << (t % 32);
  if (b.fibers.size() < static_cast<size_t>(b.nthreads)) {
    b.fibers = std::vector<Fiber>(static_cast<size_t>(b.nthreads));
  }
}

void wait_here(Block& b, State state) {
  b.threads[static_cast<size_t>(b.current)].state = state;
  Fiber::yield();
}

// A promoted thread's exit: nobody may be waiting for it.
void thread_exit(Block& b, int t) {
  b.threads[static_cast<size_t>(t)].state = State::Exited;
  ++b.exited;
  b.warps[static_cast<size_t>(t / 32)].exited |= 1u << (t % 32);
  if (b.at_barrier > 0) {
    fault(b, "exited while " + std::to_string(b.at_barrier) +
                 " thread(s) of the block wait at __syncthreads");
  }
  const Rendezvous& w = b.warps[static_cast<size_t>(t / 32)];
  if (w.open && (w.mask & (1u << (t % 32)))) {
    fault(b, std::string("exited while lanes of its warp wait for it at ") + op_name(w.op) +
                 " (mask " + hex(w.mask) + ")");
  }
}

void run_thread_fiber(void*) {
  Block& b = *t_block;
  const int t = b.current;
  try {
    (*b.body)();
    thread_exit(b, t);
  } catch (const KernelFault& f) {
    if (b.fault.empty()) b.fault = f.message;
  }
}

void run_loop_fiber(void*) {
  Block& b = *t_block;
  try {
    for (int t = 0; t < b.nthreads; ++t) {
      b.current = t;
      set_thread_index(b, t);
      (*b.body)();
      if (b.promoted) {
        thread_exit(b, t);
        return;
      }
    }
    b.exited = b.nthreads;
  } catch (const KernelFault& f) {
    if (b.fault.empty()) b.fault = f.message;
  }
}

std::string describe_waits(const Block& b) {
  std::ostringstream s;
  int t = 0;
  while (t < b.nthreads) {
    const State st = b.threads[static_cast<size_t>(t)].state;
    int end = t;
    while (end + 1 < b.nthreads && b.threads[static_cast<size_t>(end + 1)].state == st) ++end;
    if (st == State::AtBarrier || st == State::AtWarp) {
      s << (s.tellp() > 0 ? "; " : "") << "threads " << t << "-" << end << " wait at ";
      if (st == State::AtBarrier) {
        s << "__syncthreads";
      } else {
        const Rendezvous& w = b.warps[static_cast<size_t>(t / 32)];
        s << op_name(w.op) << " (mask " << hex(w.mask) << ", arrived " << hex(w.arrived) << ")";
      }
    }
    t = end + 1;
  }
  return s.str();
}

// After promotion: runs the ready threads in order until all exited.
void schedule(Block& b) {
  while (b.fault.empty()) {
    if (b.ready.empty()) {
      if (b.exited == b.nthreads) return;
      b.current = 0;
      throw KernelFault{"deadlock: " + describe_waits(b)};
    }
    const int pick = b.ready.front();
    b.ready.pop_front();
    b.current = pick;
    set_thread_index(b, pick);
    Thread& th = b.threads[static_cast<size_t>(pick)];
    if (pick == b.loop_thread) {
      b.loop.resume();
    } else if (th.state == State::NotStarted) {
      th.state = State::Runnable;
      b.fibers[static_cast<size_t>(pick)].start(&run_thread_fiber, nullptr);
    } else {
      b.fibers[static_cast<size_t>(pick)].resume();
    }
  }
}

void run_block(Block& b) {
  b.promoted = false;
  b.loop_thread = -1;
  b.exited = b.at_barrier = 0;
  b.fault.clear();
  b.current = 0;
  b.loop.start(&run_loop_fiber, nullptr);
  if (b.promoted && b.fault.empty()) schedule(b);
  for (int t = 0; t < b.nthreads && b.promoted; ++t) {
    if (static_cast<size_t>(t) < b.fibers.size()) b.fibers[static_cast<size_t>(t)].reset();
  }
  b.loop.reset();
  if (!b.fault.empty()) throw KernelFault{b.fault};
}

std::string block_name(uint3 i) {
  return "block (" + std::to_string(i.x) + "," + std::to_string(i.y) + "," + std::to_string(i.z) +
         ")";
}

void run_grid(const LaunchConfig& config, const std::function<void()>& body) {
  Block b;
  b.config = &config;
  b.body = &body;
  b.nthreads = static_cast<int>(config.block.x * config.block.y * config.block.z);
  gridDim = config.grid;
  blockDim = config.block;
  // Exactly the launch's size (ASan sees the first byte past it), fresh per launch.
  std::unique_ptr<unsigned char[]> shared(new unsigned char[config.shared_bytes + kSharedGuard]);
  t_shared = shared.get();
  Block* outer = t_block;
  t_block = &b;
  try {
    for (unsigned z = 0; z < config.grid.z; ++z) {
      for (unsigned y = 0; y < config.grid.y; ++y) {
        for (unsigned x = 0; x < config.grid.x; ++x) {
          blockIdx = uint3{x, y, z};
          std::memset(shared.get(), kSharedPoison, config.shared_bytes);
          std::memset(shared.get() + config.shared_bytes, kGuardByte, kSharedGuard);
          try {
            run_block(b);
          } catch (const KernelFault& f) {
            throw KernelFault{std::string(config.kernel) + ", " + block_name(blockIdx) + ", " +
                              f.message};
          }
          for (size_t i = 0; i < kSharedGuard; ++i) {
            if (shared[config.shared_bytes + i] != kGuardByte) {
              throw KernelFault{std::string(config.kernel) + ", " + block_name(blockIdx) +
                                ": wrote past its " + std::to_string(config.shared_bytes) +
                                " bytes of dynamic shared memory"};
            }
          }
        }
      }
    }
  } catch (...) {
    t_block = outer;
    t_shared = nullptr;
    throw;
  }
  t_block = outer;
  t_shared = nullptr;
}

std::string dims(dim3 d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

// The hardware's launch checks (sm_50 and later): cudaErrorInvalidConfiguration for the block
// and grid shape, cudaErrorInvalidValue for dynamic shared memory beyond the default limit.
cudaError_t check_config(const LaunchConfig& c, std::string& why) {
  const dim3 b = c.block, g = c.grid;
  if (b.x == 0 || b.y == 0 || b.z == 0 || b.x > 1024 || b.y > 1024 || b.z > 64 ||
      static_cast<uint64_t>(b.x) * b.y * b.z > 1024) {
    why = "block " + dims(b) + ": at most 1024 threads, (1024, 1024, 64) per dimension";
    return cudaErrorInvalidConfiguration;
  }
  if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > 2147483647u || g.y > 65535 || g.z > 65535) {
    why = "grid " + dims(g) + ": x at most 2^31 - 1, y and z at most 65535";
    return cudaErrorInvalidConfiguration;
  }
  if (c.shared_bytes > kDefaultSharedLimit) {
    why = std::to_string(c.shared_bytes) +
          " bytes of dynamic shared memory, above the 48 KiB limit without the opt-in";
    return cudaErrorInvalidValue;
  }
  return cudaSuccess;
}

}  // namespace

void* dynamic_shared_memory() {
  running_block("dynamic shared memory");
  return t_shared;
}

void block_barrier() {
  Block& b = running_block("__syncthreads");
  if (!b.promoted) promote(b);
  if (b.exited > 0) {
    int first = 0;
    while (b.threads[static_cast<size_t>(first)].state != State::Exited) ++first;
    fault(b, "reached __syncthreads after " + std::to_string(b.exited) +
                 " thread(s) of the block had exited (" + thread_name(b, first) + " first)");
  }
  if (++b.at_barrier == b.nthreads) {
    for (int t = 0; t < b.nthreads; ++t) {
      Thread& th = b.threads[static_cast<size_t>(t)];
      if (th.state == State::AtBarrier) {
        th.state = State::Runnable;
        b.ready.push_back(t);
      }
    }
    b.at_barrier = 0;
    return;
  }
  wait_here(b, State::AtBarrier);
}

namespace {

// Results of a complete rendezvous, per lane.
void complete(Block& b, Rendezvous& w, int warp) {
  const int width = w.width;
  unsigned votes = 0;
  for (int l = 0; l < 32; ++l) {
    if ((w.mask & (1u << l)) && w.value[l]) votes |= 1u << l;
  }
  for (int l = 0; l < 32; ++l) {
    if (!(w.mask & (1u << l))) continue;
    const int segment = l & ~(width - 1);
    int src = l;
    switch (w.op) {
      case WarpOp::ShflDown:
        src = l + w.arg[l] < segment + width ? l + w.arg[l] : l;
        break;
      case WarpOp::ShflUp:
        src = l - w.arg[l] >= segment ? l - w.arg[l] : l;
        break;
      case WarpOp::ShflXor:
        src = (l ^ w.arg[l]) < segment + width ? (l ^ w.arg[l]) : l;
        break;
      case WarpOp::ShflIdx:
        src = segment + (w.arg[l] & (width - 1));
        break;
      default:
        break;
    }
    if (src < 0 || src > 31 || !(w.mask & (1u << src))) {
      b.current = warp * 32 + l;
      fault(b, std::string(op_name(w.op)) + " reads lane " + std::to_string(src) +
                   ", which is not in the mask " + hex(w.mask));
    }
    uint64_t r = w.value[src];
    if (w.op == WarpOp::Ballot) r = votes;
    if (w.op == WarpOp::All) r = votes == w.mask;
    if (w.op == WarpOp::Any) r = votes != 0;
    Thread& t = b.threads[static_cast<size_t>(warp * 32 + l)];
    t.warp_result = r;
    if (t.state == State::AtWarp) {
      t.state = State::Runnable;
      b.ready.push_back(warp * 32 + l);
    }
  }
  w.open = false;
}

}  // namespace

namespace {

// Why a warp primitive's call is invalid (the checks of warp_exchange, in order), as a fault.
// Out of line and cold: the messages stay off the hot path's stack frame.
[[noreturn, gnu::noinline, gnu::cold]] void warp_call_fault(const Block& b, WarpOp op,
                                                            unsigned mask, int width,
                                                            unsigned existing, unsigned exited) {
  const int t = b.current, warp = t / 32, lane = t % 32;
  const std::string call = std::string(op_name(op)) + " with mask " + hex(mask);
  if (width < 1 || width > 32 || (width & (width - 1))) {
    fault(b, call + ": width " + std::to_string(width) + " is not a power of two up to 32");
  }
  if (!(mask & (1u << lane))) {
    fault(b, call + " does not name the calling lane " + std::to_string(lane));
  }
  if (mask & ~existing) {
    fault(b, call + " names lanes " + hex(mask & ~existing) + " that a block of " +
                 std::to_string(b.nthreads) + " threads does not have in warp " +
                 std::to_string(warp));
  }
  int l = 0;
  while (!(mask & exited & (1u << l))) ++l;
  fault(b, call + " names lane " + std::to_string(l) + ", which has exited");
}

[[noreturn, gnu::noinline, gnu::cold]] void warp_disagreement_fault(const Block& b,
                                                                    const Rendezvous& w, WarpOp op,
                                                                    unsigned mask) {
  const int t = b.current;
  fault(b, "lanes of warp " + std::to_string(t / 32) + " disagree: lane " +
               std::to_string(w.first_lane) + " called " + op_name(w.op) + " with mask " +
               hex(w.mask) + ", lane " + std::to_string(t % 32) + " " + op_name(op) +
               " with mask " + hex(mask));
}

}  // namespace

uint64_t warp_exchange(WarpOp op, unsigned mask, uint64_t value, int arg, int width) {
  Block& b = running_block(op_name(op));
  if (!b.promoted) promote(b);
  const int t = b.current, warp = t / 32, lane = t % 32;
  const int lanes = std::min(32, b.nthreads - warp * 32);
  const unsigned existing = lanes == 32 ? ~0u : (1u << lanes) - 1;
  Rendezvous& w = b.warps[static_cast<size_t>(warp)];
  if (width < 1 || width > 32 || (width & (width - 1)) || !(mask & (1u << lane)) ||
      (mask & ~existing) || (mask & w.exited)) {
    warp_call_fault(b, op, mask, width, existing, w.exited);
  }
  if (!w.open) {
    w.open = true;
    w.op = op;
    w.mask = mask;
    w.arrived = 0;
    w.width = width;
    w.first_lane = lane;
  } else if (w.op != op || w.mask != mask || w.width != width) {
    warp_disagreement_fault(b, w, op, mask);
  }
  w.value[lane] = value;
  w.arg[lane] = arg;
  w.arrived |= 1u << lane;
  if (w.arrived == w.mask) {
    complete(b, w, warp);
    b.current = t;
  } else {
    wait_here(b, State::AtWarp);
  }
  return b.threads[static_cast<size_t>(t)].warp_result;
}

void submit(const LaunchConfig& config, std::function<void()> thread_body) {
  auto guard = lock();
  std::string why;
  if (const cudaError_t e = check_config(config, why); e != cudaSuccess) {
    set_error(e, std::string(config.kernel) + ": " + why);
    return;
  }
  std::shared_ptr<CUstream_st> stream = resolve_stream(config.stream);
  if (!stream) {
    set_error(cudaErrorInvalidResourceHandle, std::string(config.kernel) + ": unknown stream");
    return;
  }
  if (stream->device != current_device()) {
    set_error(cudaErrorInvalidResourceHandle,
              std::string(config.kernel) +
                  ": launched into a stream of cuda:" + std::to_string(stream->device) +
                  " while cuda:" + std::to_string(current_device()) + " is current");
    return;
  }
  if (const cudaError_t e = sticky_error(stream->device); e != cudaSuccess) {
    set_error(e);
    return;
  }
  count_launch(config.kernel);
  enqueue(stream, [config, body = std::move(thread_body)] { run_grid(config, body); });
}

}  // namespace rtseg::emu
