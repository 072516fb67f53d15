#pragma once
// Idle zstd compression contexts kept for reuse. Creating a context and
// sizing its tables costs ~20 us, most of the CPU of a small request whose
// body opens one zstd-8mb output stream; a pooled one is reset instead.
// A context comes back with its session and parameters reset, so nothing of
// one stream (history, dictionary, level) reaches the next.
#include <zstd.h>

#include <cstddef>
#include <mutex>
#include <vector>

namespace hgrpc::framing {

class ZstdContextPool {
 public:
  // Keeps at most max_idle contexts; more coming back are freed.
  explicit ZstdContextPool(std::size_t max_idle) : max_idle_(max_idle) {}
  ~ZstdContextPool();
  ZstdContextPool(const ZstdContextPool&) = delete;
  ZstdContextPool& operator=(const ZstdContextPool&) = delete;

  // An idle context, or a new one; nullptr only when allocation fails.
  ZSTD_CCtx* acquire();
  // Resets cctx and keeps it (or frees it when the pool is full).
  void release(ZSTD_CCtx* cctx);

  // Frees the idle contexts beyond `keep` (a context that compressed a large
  // stream holds its window: MiBs each). The server calls it when a burst is
  // over, so its memory comes back to its idle size.
  void trim(std::size_t keep);

  std::size_t idle() const;

 private:
  const std::size_t max_idle_;
  mutable std::mutex mutex_;
  std::vector<ZSTD_CCtx*> idle_;
};

}  // namespace hgrpc::framing
