#pragma once
// Standard base64 (RFC 4648, with padding): how byte strings appear in the
// client's JSON output and input.
#include <string>
#include <string_view>

#include "framing/bytes.hpp"
#include "framing/result.hpp"

namespace hgrpc::client {

std::string base64_encode(framing::ByteView in);
// Accepts padded input only; errors name the offending offset.
framing::Result<framing::Bytes> base64_decode(std::string_view in);

}  // namespace hgrpc::client
