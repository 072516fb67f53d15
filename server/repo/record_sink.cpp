#include "server/repo/record_sink.hpp"

namespace hgrpc::server::repo {

bool CollectingSink::charge(std::uint64_t n) {
  if (over_ || n > max_ - used_) {
    over_ = true;
    return false;
  }
  used_ += n;
  return true;
}

bool CollectingSink::value(json v) {
  // Values are small (records, node lists); their encoded size is what counts.
  if (!charge(framing::cbor_encode(v).size())) return false;
  out_.push_back(std::move(v));
  return true;
}

bool CollectingSink::bytes(ByteView data) {
  if (!charge(data.size() + 9)) return false;
  out_.push_back(framing::cbor_bytes(data));
  return true;
}

std::string CollectingSink::sink_error() const {
  return "response exceeds the output limit of " + std::to_string(max_) + " bytes";
}

}  // namespace hgrpc::server::repo
