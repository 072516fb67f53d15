#pragma once
// RecordSink: what a repository command writes its response into, one record
// at a time: CBOR values and definite-length byte strings (revision data).
// Commands never build the whole response; the sink decides where records go
// (the server's ResponseSink, with backpressure; tests collect them through
// CommandRegistry::run). A false return means the consumer is gone or over a limit:
// the command stops and reports sink_error().
#include <cstdint>
#include <string>

#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "server/command_registry.hpp"
#include "server/response_sink.hpp"

namespace hgrpc::server::repo {

using framing::ByteView;
using framing::json;

class RecordSink {
 public:
  virtual ~RecordSink() = default;
  // One CBOR value (a map, a list, ...).
  virtual bool value(json v) = 0;
  // One CBOR value, already encoded (exactly one value).
  virtual bool encoded_value(ByteView cbor) = 0;
  // One definite-length CBOR byte string holding `data`.
  virtual bool bytes(ByteView data) = 0;
  // Whether spliced_bytes() may be called: the response goes out on
  // zstd-8mb-frames streams, which carry stored zstd chunks as they are.
  virtual bool splices() const { return false; }
  // One definite-length CBOR byte string of `size` bytes given as a whole
  // zstd frame that decodes to them (a stored revlog chunk).
  virtual bool spliced_bytes(framing::Bytes zstd_frame, std::uint64_t size);
  // Why the last write failed.
  virtual std::string sink_error() const = 0;
};

// Writes records into the response's ResponseSink (which frames them and
// applies the connection's backpressure), bounded by
// CommandLimits::max_output_bytes (counted as the payload bytes written).
class ResponseRecordSink final : public RecordSink {
 public:
  ResponseRecordSink(ResponseSink& sink, std::uint64_t max_output_bytes) : sink_(sink), max_(max_output_bytes) {}
  bool value(json v) override;
  bool encoded_value(ByteView cbor) override;
  bool bytes(ByteView data) override;
  bool splices() const override { return sink_.splices(); }
  bool spliced_bytes(framing::Bytes zstd_frame, std::uint64_t size) override;
  std::string sink_error() const override;

 private:
  bool charge(std::uint64_t n);
  ResponseSink& sink_;
  std::uint64_t max_;
  std::uint64_t used_ = 0;
  bool over_ = false;
};

}  // namespace hgrpc::server::repo
