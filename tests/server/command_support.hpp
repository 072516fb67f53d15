#pragma once
// Helpers for the command tests: hand-made deltas, CBOR command data, running
// a command of the standard registry.
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "server/command_registry.hpp"

namespace hgrpc::server::testing {

using framing::Bytes;
using framing::json;

struct TestHunk {
  std::int64_t start;
  std::int64_t end;
  std::string data;
  std::optional<std::int64_t> length{};  // declared length when it must lie
};

inline void put_be32(Bytes& out, std::int64_t v) {
  auto u = static_cast<std::uint32_t>(static_cast<std::int32_t>(v));
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(u >> shift));
}

// The wire form of a delta: per hunk, start/end/length as big-endian int32,
// then the data.
inline Bytes delta(std::initializer_list<TestHunk> hunks) {
  Bytes out;
  for (const auto& h : hunks) {
    put_be32(out, h.start);
    put_be32(out, h.end);
    put_be32(out, h.length.value_or(static_cast<std::int64_t>(h.data.size())));
    framing::append(out, framing::as_bytes(h.data));
  }
  return out;
}

inline json bin(std::string_view s) { return framing::cbor_bytes(s); }
inline json bin(const Bytes& b) { return json::binary(b); }

inline std::string str(const json& binary) {
  const auto& b = binary.get_binary();
  return {b.begin(), b.end()};
}

// The bytes of a json::binary, as a plain vector (comparable with Bytes).
inline Bytes raw(const json& binary) {
  const auto& b = binary.get_binary();
  return {b.begin(), b.end()};
}

// Command data: a CBOR sequence of the given values.
inline Bytes data_of(std::initializer_list<json> items) {
  Bytes out;
  for (const auto& v : items) framing::cbor_encode(v, out);
  return out;
}

inline const CommandRegistry& registry() {
  static const CommandRegistry r = CommandRegistry::standard();
  return r;
}

inline CommandResult run(std::string_view name, const json& args,
                         std::optional<framing::ByteView> data = std::nullopt,
                         const CommandLimits& limits = {}) {
  const CommandSpec* spec = registry().find(name);
  REQUIRE(spec != nullptr);
  return registry().run(*spec, args, data, limits);
}

// Checks an error's exact message and args.
inline void check_error(const CommandResult& r, std::string_view message,
                        const std::vector<std::string>& args) {
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().message == message);
  CHECK(r.error().args == args);
}

// The single value of a successful result.
inline json single(const CommandResult& r) {
  if (!r) FAIL("command error: " << format_command_error(r.error()));
  REQUIRE(r->size() == 1);
  return r->front();
}

}  // namespace hgrpc::server::testing
