// What every oneDNN call of the fast backend shares: the CPU engine, a stream per thread, and
// OpenMP held to one thread per calling thread. oneDNN is built on OpenMP here and would start a
// team of its own inside each task (and split work by the team's size, so the bits would depend
// on it); one thread per caller keeps rtseg's pool the only source of parallelism and of
// determinism.
#pragma once

#include <dnnl.hpp>

namespace rtseg::cpu_fast {

// Call before creating or running anything of oneDNN's on this thread.
void onednn_single_threaded();

dnnl::engine& onednn_engine();
// This thread's stream (a oneDNN stream may not be shared between threads).
dnnl::stream& onednn_thread_stream();

}  // namespace rtseg::cpu_fast
