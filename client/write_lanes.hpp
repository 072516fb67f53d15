#pragma once
// Revision writing on worker threads, so that reading a response (network,
// frames, CBOR) and writing revlogs (patch, hash, delta, compression, file
// creation) overlap and a fetch uses more than one core.
//
// A lane is one worker thread with a queue of jobs, run in the order they
// were submitted; jobs of different lanes run concurrently. The fetch puts
// everything that touches one revlog on one lane (a path's lane is chosen,
// least_loaded, when its revisions start, and kept for the batch), so a
// revlog writer is only ever used by one thread.
//
// Memory is bounded by one budget that the lanes share, lanes() x
// max_queued_bytes: submit() blocks while the queued jobs of all lanes hold
// that much (a job larger than the budget still runs, alone). Shared, so
// that a lane with much to do (the manifest log before the files arrive, a
// path with many revisions) does not make the reader wait while another
// lane idles. A reader waiting for room is woken once half the budget is
// free, not after every job. The first job to fail stops the lanes: later
// jobs are dropped, and submit() and wait() return that error. With zero
// threads there is one lane and submit() runs the job at once on the
// caller's thread.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "client/errors.hpp"

namespace hgrpc::client {

class WriteLanes {
 public:
  using Job = std::move_only_function<ClientResult<void>()>;

  WriteLanes(std::size_t threads, std::uint64_t max_queued_bytes);
  ~WriteLanes();  // drops what is still queued, waits for running jobs
  WriteLanes(const WriteLanes&) = delete;
  WriteLanes& operator=(const WriteLanes&) = delete;

  std::size_t lanes() const { return lanes_.empty() ? 1 : lanes_.size(); }
  // Queues `job` (which holds `bytes` of data) on lane `lane % lanes()`.
  // Returns the first error of any job so far.
  ClientResult<void> submit(std::size_t lane, std::uint64_t bytes, Job job);
  // Of lanes first .. first + count - 1, the one with the fewest bytes
  // queued (the lowest index on a tie).
  std::size_t least_loaded(std::size_t first, std::size_t count) const;
  // Returns once every submitted job has run (or been dropped after an
  // error): the first error, if any.
  ClientResult<void> wait();

 private:
  struct Lane {
    std::deque<std::pair<std::uint64_t, Job>> jobs;
    std::uint64_t queued_bytes = 0;  // of jobs queued or running
    bool running = false;
    std::condition_variable work;
    std::thread thread;
  };
  void run(Lane& lane);
  ClientResult<void> first_error() const;  // with mutex_ held

  const std::uint64_t max_queued_bytes_;  // all lanes together
  std::uint64_t queued_bytes_ = 0;        // of all lanes' jobs queued or running
  mutable std::mutex mutex_;
  std::condition_variable progress_;  // a job ended: room in a queue, or drained
  std::optional<ClientError> error_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace hgrpc::client
