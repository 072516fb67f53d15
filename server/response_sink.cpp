#include "server/response_sink.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "server/cached_response.hpp"
#include "server/command_registry.hpp"

namespace hgrpc::server {

using framing::ByteView;

std::string_view cache_outcome_name(CacheOutcome o) {
  switch (o) {
    case CacheOutcome::None: return "";
    case CacheOutcome::Hit: return "hit";
    case CacheOutcome::Shared: return "shared";
    case CacheOutcome::TierHit: return "tier";
    case CacheOutcome::Miss: return "miss";
    case CacheOutcome::Uncached: return "uncached";
  }
  return "";
}

ResponseSink::ResponseSink(framing::ResponseEmitter& emitter, Drain drain, std::size_t batch_bytes, bool splices)
    : emitter_(emitter),
      drain_(std::move(drain)),
      batch_bytes_(std::max<std::size_t>(batch_bytes, 1)),
      splices_(splices) {}

bool ResponseSink::drain_all() {
  if (planned_.empty()) return ok_;
  if (ok_) ok_ = drain_(planned_, emitter_);
  drained_ = true;
  if (!ok_) planned_.clear();
  // The drain takes what it submits; anything it leaves counts again.
  planned_bytes_ = 0;
  counted_frames_ = 0;
  return after_write_count();
}

bool ResponseSink::after_write_count() {
  for (; counted_frames_ < planned_.size(); ++counted_frames_)
    planned_bytes_ += framing::planned_size(planned_[counted_frames_]);
  return ok_;
}

bool ResponseSink::after_write() {
  after_write_count();
  if (planned_bytes_ >= batch_bytes_) return drain_all();
  return ok_;
}

bool ResponseSink::value(const framing::json& v) {
  if (!ok_) return false;
  if (recorder_) {
    // Encoded once for both the recording and the frames.
    scratch_.clear();
    framing::cbor_encode(v, scratch_);
    recorder_->encoded(scratch_);
    emitter_.encoded_value(scratch_, planned_);
    return after_write();
  }
  emitter_.value(v, planned_);
  return after_write();
}

bool ResponseSink::encoded(ByteView cbor) {
  if (!ok_) return false;
  if (recorder_) recorder_->encoded(cbor);
  emitter_.encoded_value(cbor, planned_);
  return after_write();
}

bool ResponseSink::bytes(ByteView b) {
  if (!bytes_begin(b.size())) return false;
  while (!b.empty()) {
    const auto n = std::min(b.size(), batch_bytes_);
    if (!bytes_chunk(b.first(n))) return false;
    b = b.subspan(n);
  }
  return ok_;
}

bool ResponseSink::bytes_begin(std::uint64_t length) {
  if (!ok_) return false;
  if (recorder_) recorder_->bytes_begin(length);
  emitter_.bytes_begin(length, planned_);
  return after_write();
}

bool ResponseSink::bytes_begin() {
  if (!ok_) return false;
  if (recorder_) recorder_->bytes_begin_indefinite();
  emitter_.bytes_begin(planned_);
  return after_write();
}

bool ResponseSink::bytes_chunk(ByteView chunk) {
  if (!ok_) return false;
  if (recorder_) recorder_->bytes_chunk(chunk);
  emitter_.bytes_chunk(chunk, planned_);
  return after_write();
}

bool ResponseSink::bytes_end() {
  if (!ok_) return false;
  if (recorder_) recorder_->bytes_end();
  emitter_.bytes_end(planned_);
  return after_write();
}

bool ResponseSink::spliced_chunk(framing::SharedBytes zstd_frames, std::uint64_t decoded_size) {
  if (!ok_) return false;
  if (!splices_) throw std::logic_error("ResponseSink::spliced_chunk on a response whose streams cannot splice");
  if (recorder_) recorder_->spliced(zstd_frames.view(), decoded_size);
  emitter_.spliced_chunk(std::move(zstd_frames), decoded_size, planned_);
  return after_write();
}

bool ResponseSink::pre_encoded(framing::SharedBytes zstd_frames) {
  if (!ok_) return false;
  if (!splices_) throw std::logic_error("ResponseSink::pre_encoded on a response whose streams cannot splice");
  if (recorder_) recorder_->pre_encoded(zstd_frames.view());
  // One piece, not cut: the response may move to another stream after any
  // write, and the piece must decode on one (CachedResponse keeps pieces of
  // whole frames, about a batch each).
  emitter_.pre_encoded(std::move(zstd_frames), planned_);
  return after_write();
}

bool ResponseSink::redirect(const framing::json& location) {
  if (!ok_) return false;
  emitter_.redirect_status(location, planned_);
  return after_write();
}

bool ResponseSink::finish() {
  if (!ok_) return false;
  emitter_.end(planned_);
  return drain_all();
}

bool ResponseSink::fail(const CommandError& e) {
  if (!ok_ || emitter_.finished()) return false;
  emitter_.command_error(e.message, e.args, planned_);
  return drain_all();
}

bool ResponseSink::fail_server(std::string_view message) {
  if (!ok_ || emitter_.finished()) return false;
  if (!drained_) {
    // Nothing went out yet: the error alone answers the request.
    planned_.clear();
    emitter_ = framing::ResponseEmitter(emitter_.request_id(), emitter_.stream_id(), emitter_.options());
  }
  emitter_.error_response(framing::ErrorType::Server, message, planned_);
  return drain_all();
}

}  // namespace hgrpc::server
