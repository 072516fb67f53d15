#include "framing/zstd_context_pool.hpp"

namespace hgrpc::framing {

ZstdContextPool::~ZstdContextPool() {
  for (ZSTD_CCtx* c : idle_) ZSTD_freeCCtx(c);
}

ZSTD_CCtx* ZstdContextPool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      ZSTD_CCtx* c = idle_.back();
      idle_.pop_back();
      return c;
    }
  }
  return ZSTD_createCCtx();
}

void ZstdContextPool::release(ZSTD_CCtx* cctx) {
  if (cctx == nullptr) return;
  // Outside the lock: resetting only marks the tables stale, but it is work.
  const bool reset = !ZSTD_isError(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters));
  {
    std::lock_guard lock(mutex_);
    if (reset && idle_.size() < max_idle_) {
      idle_.push_back(cctx);
      return;
    }
  }
  ZSTD_freeCCtx(cctx);
}

void ZstdContextPool::trim(std::size_t keep) {
  std::vector<ZSTD_CCtx*> extra;
  {
    std::lock_guard lock(mutex_);
    while (idle_.size() > keep) {
      extra.push_back(idle_.back());
      idle_.pop_back();
    }
  }
  for (ZSTD_CCtx* c : extra) ZSTD_freeCCtx(c);
}

std::size_t ZstdContextPool::idle() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

}  // namespace hgrpc::framing
