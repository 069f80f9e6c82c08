#include "kernels/cpu_fast/onednn_runtime.h"

#include <omp.h>

namespace rtseg::cpu_fast {

void onednn_single_threaded() {
  thread_local bool set = false;
  if (!set) {
    omp_set_num_threads(1);
    set = true;
  }
}

dnnl::engine& onednn_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& onednn_thread_stream() {
  thread_local dnnl::stream stream(onednn_engine());
  return stream;
}

}  // namespace rtseg::cpu_fast
