#pragma once
// A small LRU of full texts by rev, bounded in bytes, guarded by a mutex so
// that many readers may share it. Walking manifests in rev order then
// rebuilds each text from its neighbour's instead of from the chain start.
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "store/error.hpp"

namespace hgrpc::store {

class TextCache {
 public:
  explicit TextCache(std::uint64_t capacity_bytes) : capacity_(capacity_bytes) {}

  std::shared_ptr<const Bytes> get(int rev) {
    std::lock_guard lock(mutex_);
    auto it = map_.find(rev);
    if (it == map_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return it->second->second;
  }

  // Drops every text (a writer done with its revlog for now).
  void clear() {
    std::lock_guard lock(mutex_);
    map_.clear();
    order_.clear();
    used_ = 0;
  }

  void put(int rev, std::shared_ptr<const Bytes> text) {
    if (text->size() > capacity_) return;
    std::lock_guard lock(mutex_);
    if (map_.contains(rev)) return;
    order_.emplace_front(rev, std::move(text));
    map_[rev] = order_.begin();
    used_ += order_.front().second->size();
    while (used_ > capacity_) {
      used_ -= order_.back().second->size();
      map_.erase(order_.back().first);
      order_.pop_back();
    }
  }

 private:
  using Item = std::pair<int, std::shared_ptr<const Bytes>>;
  std::mutex mutex_;
  std::uint64_t capacity_;
  std::uint64_t used_ = 0;
  std::list<Item> order_;
  std::unordered_map<int, std::list<Item>::iterator> map_;
};

}  // namespace hgrpc::store
