// The fast CPU backend's intra-op threads. Work is cut into tasks by its shape alone, never by
// the number of threads, and every reduction sums its per-task partials in task order, so a
// result is bit-identical for any thread count (the determinism that bit-exact resume and
// reproducible training rely on). Which thread runs a task is free.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rtseg::cpu_fast {

class ThreadPool {
 public:
  // `threads` ≥ 1 in all, the calling thread included (threads − 1 workers are started).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls task(i) for every i in [0, tasks) and returns when all are done; the first exception a
  // task throws is rethrown here (the other tasks still run). A call from inside a task, or while
  // another thread's call is running, runs its tasks inline on the calling thread.
  void run(int64_t tasks, const std::function<void(int64_t)>& task);

 private:
  void work_loop();
  void run_tasks();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, finished_;
  std::mutex busy_;  // held by the thread whose call the workers serve
  // The current call, guarded by mutex_ (tasks are claimed under it too: tasks are coarse).
  const std::function<void(int64_t)>* task_ = nullptr;
  int64_t tasks_ = 0, next_ = 0, unfinished_ = 0;
  uint64_t generation_ = 0;
  std::exception_ptr error_;
  bool stop_ = false;
};

// The process's pool: RTSEG_NUM_THREADS threads, else one per core, unless set_num_threads said
// otherwise.
ThreadPool& thread_pool();
// Resizes the process's pool (n ≥ 1); not while a call on it is running.
void set_num_threads(int n);
int num_threads();

// thread_pool().run(tasks, task).
inline void parallel_for(int64_t tasks, const std::function<void(int64_t)>& task) {
  thread_pool().run(tasks, task);
}

// Splits [0, n) into ceil(n / grain) tasks of `grain` items (the last may be shorter) and calls
// body(begin, end) for each: the partition depends on n and grain only.
inline void parallel_ranges(int64_t n, int64_t grain,
                            const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  grain = grain < 1 ? 1 : grain;
  const int64_t tasks = (n + grain - 1) / grain;
  parallel_for(tasks, [&](int64_t t) {
    const int64_t begin = t * grain;
    body(begin, begin + grain < n ? begin + grain : n);
  });
}

}  // namespace rtseg::cpu_fast
