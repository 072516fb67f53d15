#pragma once
// The input of clone_responses_fuzz: what a server answers to hgrpc clone,
// one block per call in the order the client makes its calls:
//
//   block = u32 little-endian length, then `length` bytes:
//           kind (0 ok, 1 command error, 2 error response, other: the
//           transport fails) and a CBOR sequence: the values (ok) or one
//           message value (errors)
//
// ReplayedExchange answers calls from such an input (a missing or undecodable
// block fails the exchange as a broken connection would); encode_block makes
// blocks from real outcomes (the seed test in tests/repo/ records a clone).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "client/fetch.hpp"
#include "framing/cbor.hpp"

namespace hgrpc::fuzz {

inline framing::Bytes encode_block(const client::Outcome& o) {
  framing::Bytes body;
  body.push_back(o.kind == client::Outcome::Kind::Ok             ? 0
                 : o.kind == client::Outcome::Kind::CommandError ? 1
                                                                 : 2);
  if (o.kind == client::Outcome::Kind::Ok) {
    for (const auto& v : o.values) framing::cbor_encode(v, body);
  } else {
    framing::cbor_encode(framing::cbor_bytes(o.message), body);
  }
  const auto n = static_cast<std::uint32_t>(body.size());
  framing::Bytes out(4 + body.size());
  for (std::size_t i = 0; i < 4; ++i) out[i] = static_cast<std::uint8_t>(n >> (8 * i));
  std::copy(body.begin(), body.end(), out.begin() + 4);
  return out;
}

class ReplayedExchange {
 public:
  explicit ReplayedExchange(framing::ByteView input) : input_(input) {}

  client::Exchange exchange() {
    return [this](const std::vector<client::Call>& calls) -> client::ClientResult<std::vector<client::Outcome>> {
      std::vector<client::Outcome> out;
      for (std::size_t i = 0; i < calls.size(); ++i) {
        auto o = next();
        if (!o) return client::client_fail(client::ErrorKind::Protocol, "replayed exchange: " + o.error());
        out.push_back(std::move(*o));
      }
      return out;
    };
  }

 private:
  hgrpc::expected<client::Outcome, std::string> next() {
    if (input_.size() < 5) return hgrpc::unexpected<std::string>("no block left");
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n |= static_cast<std::uint32_t>(input_[static_cast<std::size_t>(i)]) << (8 * i);
    input_ = input_.subspan(4);
    if (n == 0 || n > input_.size()) return hgrpc::unexpected<std::string>("a block runs past the input");
    const std::uint8_t kind = input_[0];
    framing::CborLimits limits;
    limits.max_string_bytes = n;
    auto values = framing::cbor_decode_all(input_.subspan(1, n - 1), limits);
    input_ = input_.subspan(n);
    if (!values) return hgrpc::unexpected<std::string>(values.error().message);
    client::Outcome o;
    if (kind == 0) {
      o.values = std::move(*values);
    } else if (kind == 1 || kind == 2) {
      o.kind = kind == 1 ? client::Outcome::Kind::CommandError : client::Outcome::Kind::ErrorResponse;
      o.error_type = "command";
      o.message = values->empty() ? std::string() : client::format_error_message(values->front());
    } else {
      return hgrpc::unexpected<std::string>("the connection broke");
    }
    return o;
  }

  framing::ByteView input_;
};

}  // namespace hgrpc::fuzz
