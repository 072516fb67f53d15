#include "server/repo/record_sink.hpp"

#include <stdexcept>

namespace hgrpc::server::repo {

bool ResponseRecordSink::charge(std::uint64_t n) {
  if (over_ || n > max_ - used_) {
    over_ = true;
    return false;
  }
  used_ += n;
  return true;
}

bool ResponseRecordSink::value(json v) {
  // Values are small (records, node lists); their encoded size is what counts.
  framing::Bytes encoded;
  framing::cbor_encode(v, encoded);
  return encoded_value(encoded);
}

bool ResponseRecordSink::encoded_value(ByteView cbor) {
  if (!charge(cbor.size())) return false;
  return sink_.encoded(cbor);
}

bool ResponseRecordSink::bytes(ByteView data) {
  if (!charge(data.size() + 9)) return false;
  return sink_.bytes(data);
}

bool RecordSink::spliced_bytes(framing::Bytes, std::uint64_t) {
  throw std::logic_error("RecordSink::spliced_bytes on a sink that does not splice");
}

bool ResponseRecordSink::spliced_bytes(framing::Bytes zstd_frame, std::uint64_t size) {
  // Counted as what it decodes to, like bytes().
  if (size > max_ || !charge(size + 9)) return false;
  return sink_.bytes_begin(size) && sink_.spliced_chunk(std::move(zstd_frame), size);
}

std::string ResponseRecordSink::sink_error() const {
  if (!over_) return "the response's output is gone (the peer hung up or a write failed)";
  return "response exceeds the output limit of " + std::to_string(max_) + " bytes";
}

}  // namespace hgrpc::server::repo
