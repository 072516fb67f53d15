#pragma once
// CompressionPool: the worker threads (--compress-threads) that render output
// streams for every request of the server. A job is "render the queued frames
// of one stream"; a stream never has two jobs at once (see OutputMux), so its
// encoder context stays single-threaded while distinct streams run in parallel.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hgrpc::server {

class CompressionPool {
 public:
  explicit CompressionPool(std::size_t threads);
  ~CompressionPool();  // runs the queued jobs, then joins
  CompressionPool(const CompressionPool&) = delete;
  CompressionPool& operator=(const CompressionPool&) = delete;

  void post(std::function<void()> job);
  std::size_t size() const { return threads_.size(); }

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace hgrpc::server
