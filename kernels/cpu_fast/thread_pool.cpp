#include "kernels/cpu_fast/thread_pool.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "kernels/error.h"

namespace rtseg::cpu_fast {

namespace {

thread_local bool t_inside_task = false;

// Runs `task` over [0, tasks) on this thread alone.
void run_inline(int64_t tasks, const std::function<void(int64_t)>& task) {
  for (int64_t i = 0; i < tasks; ++i) task(i);
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  RTSEG_CHECK(threads >= 1, "thread pool: need at least 1 thread, got {}", threads);
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run(int64_t tasks, const std::function<void(int64_t)>& task) {
  if (tasks <= 0) return;
  if (tasks == 1 || workers_.empty() || t_inside_task) {
    const bool outer = t_inside_task;
    t_inside_task = true;
    try {
      run_inline(tasks, task);
    } catch (...) {
      t_inside_task = outer;
      throw;
    }
    t_inside_task = outer;
    return;
  }
  std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
  if (!busy.owns_lock()) {  // another thread's call has the workers: same results, inline
    t_inside_task = true;
    try {
      run_inline(tasks, task);
    } catch (...) {
      t_inside_task = false;
      throw;
    }
    t_inside_task = false;
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    tasks_ = tasks;
    next_ = 0;
    unfinished_ = tasks;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  run_tasks();
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    finished_.wait(lock, [this] { return unfinished_ == 0; });
    task_ = nullptr;
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

void ThreadPool::run_tasks() {
  t_inside_task = true;
  std::unique_lock<std::mutex> lock(mutex_);
  while (task_ != nullptr && next_ < tasks_) {
    const int64_t i = next_++;
    const std::function<void(int64_t)>& task = *task_;
    lock.unlock();
    std::exception_ptr error;
    try {
      task(i);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error && !error_) error_ = error;
    if (--unfinished_ == 0) finished_.notify_all();
  }
  t_inside_task = false;
}

void ThreadPool::work_loop() {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_tasks();
  }
}

namespace {

int default_threads() {
  if (const char* env = std::getenv("RTSEG_NUM_THREADS"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    RTSEG_CHECK(*end == '\0' && n >= 1 && n <= 1024,
                "RTSEG_NUM_THREADS must be a whole number from 1 to 1024, got '{}'", env);
    return static_cast<int>(n);
  }
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : static_cast<int>(cores);
}

std::unique_ptr<ThreadPool>& pool_slot() {
  static std::unique_ptr<ThreadPool> pool;
  return pool;
}

std::mutex& pool_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

ThreadPool& thread_pool() {
  std::lock_guard<std::mutex> lock(pool_mutex());
  std::unique_ptr<ThreadPool>& pool = pool_slot();
  if (!pool) pool = std::make_unique<ThreadPool>(default_threads());
  return *pool;
}

void set_num_threads(int n) {
  RTSEG_CHECK(n >= 1 && n <= 1024, "threads: must be from 1 to 1024, got {}", n);
  std::lock_guard<std::mutex> lock(pool_mutex());
  std::unique_ptr<ThreadPool>& pool = pool_slot();
  if (pool && pool->threads() == n) return;
  pool.reset();
  pool = std::make_unique<ThreadPool>(n);
}

int num_threads() { return thread_pool().threads(); }

}  // namespace rtseg::cpu_fast
