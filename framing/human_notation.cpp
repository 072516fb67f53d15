#include "framing/human_notation.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <string>

#include "framing/cbor.hpp"
#include "framing/python_literal.hpp"

namespace hgrpc::framing {
namespace {

constexpr std::string_view kBlank = " \t";

std::string quoted(std::string_view s) {
  std::string out;  // built in steps: "'" + std::string(s) trips g++ 12's -Wrestrict
  out.reserve(s.size() + 2);
  out += '\'';
  out += s;
  out += '\'';
  return out;
}

// Decimal, or hex with 0x. Nothing else (no sign, no spaces).
std::optional<unsigned long> parse_uint(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  unsigned long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

Result<unsigned long> parse_number(std::string_view field, std::string_view s, unsigned long max) {
  auto v = parse_uint(s);
  if (!v || *v > max) {
    return fail(std::string(field) + ": " + quoted(s) + " is not an integer from 0 to " +
                std::to_string(max));
  }
  return *v;
}

// flag|flag|..., each a name that lookup knows or an integer; the OR fits in max.
template <class Lookup>
Result<std::uint8_t> parse_flags(std::string_view field, std::string_view s, unsigned max,
                                 Lookup lookup, std::string_view known) {
  unsigned value = 0;
  const std::string_view whole = s;
  while (true) {
    const auto bar = s.find('|');
    const std::string_view item = s.substr(0, bar);
    if (item.empty()) return fail(std::string(field) + ": empty flag in " + quoted(whole));
    if (auto bit = lookup(item)) {
      value |= *bit;
    } else if (auto v = parse_uint(item); v && *v <= max) {
      value |= static_cast<unsigned>(*v);
    } else {
      return fail(std::string(field) + ": unknown flag " + quoted(item) + " (expected " +
                  std::string(known) + "an integer from 0 to " + std::to_string(max) + ")");
    }
    if (bar == std::string_view::npos) break;
    s.remove_prefix(bar + 1);
  }
  return static_cast<std::uint8_t>(value);
}

std::string flag_names_of(std::uint8_t type) {
  std::string names;
  for (unsigned bit = 1; bit <= 0x08; bit <<= 1) {
    auto name = type_flag_name(type, static_cast<std::uint8_t>(bit));
    if (!name.empty()) names += std::string(name) + ", ";
  }
  return names;
}

// Names of the set bits, unknown ones as integers; "0" when none.
template <class Name>
std::string format_flags(std::uint8_t value, Name name) {
  if (value == 0) return "0";
  std::string out;
  for (unsigned bit = 1; bit <= 0x80; bit <<= 1) {
    if ((value & bit) == 0) continue;
    if (!out.empty()) out.push_back('|');
    auto n = name(static_cast<std::uint8_t>(bit));
    out += n.empty() ? std::to_string(bit) : std::string(n);
  }
  return out;
}

std::string bytes_notation(ByteView payload) {
  std::string s = escape_bytes(payload);
  // A literal that would read as cbor:, or whose edge blanks an editor or the
  // field split might eat, gets those characters as escapes.
  if (s.starts_with("cbor:")) s.replace(0, 1, "\\x63");
  if (!s.empty() && s.back() == ' ') s.replace(s.size() - 1, 1, "\\x20");
  return s;
}

}  // namespace

std::optional<std::string> format_cbor_notation(ByteView payload) {
  if (payload.empty()) return std::nullopt;
  auto values = cbor_decode_all(payload);
  if (!values || values->size() != 1) return std::nullopt;
  std::string literal;
  try {
    literal = format_python_literal(values->front());
  } catch (const std::exception&) {
    return std::nullopt;  // a value the literal syntax cannot carry
  }
  // Print cbor: only when reading it back yields these very bytes (text
  // keys, indefinite lengths and non-shortest heads would not).
  auto back = parse_python_literal(literal);
  if (!back) return std::nullopt;
  Bytes again;
  try {
    cbor_encode(*back, again);
  } catch (const std::logic_error&) {
    return std::nullopt;
  }
  if (!std::equal(again.begin(), again.end(), payload.begin(), payload.end())) return std::nullopt;
  return "cbor:" + literal;
}

Result<OwnedFrame> parse_human_frame(std::string_view line) {
  static constexpr std::string_view kFields[] = {"request id", "stream id", "stream flags",
                                                 "frame type", "frame flags"};
  std::string_view fields[5];
  std::string_view rest = line;
  for (int i = 0; i < 5; ++i) {
    const auto start = rest.find_first_not_of(kBlank);
    if (start == std::string_view::npos) {
      return fail(std::string(kFields[i]) + ": missing (a frame line has " +
                  "<request-id> <stream-id> <stream-flags> <type> <flags> <payload>)");
    }
    rest.remove_prefix(start);
    const auto end = rest.find_first_of(kBlank);
    fields[i] = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  }
  const std::string_view payload = rest;  // after exactly one separator

  OwnedFrame f;
  auto request_id = parse_number(kFields[0], fields[0], 0xFFFF);
  if (!request_id) return hgrpc::unexpected<Error>(request_id.error());
  auto stream_id = parse_number(kFields[1], fields[1], 0xFF);
  if (!stream_id) return hgrpc::unexpected<Error>(stream_id.error());
  auto sflags = parse_flags(kFields[2], fields[2], 0xFF, stream_flag_from_name,
                            "stream-begin, stream-end, encoded or ");
  if (!sflags) return hgrpc::unexpected<Error>(sflags.error());

  std::uint8_t type = 0;
  if (auto t = frame_type_from_name(fields[3])) {
    type = static_cast<std::uint8_t>(*t);
  } else if (auto v = parse_uint(fields[3]); v && *v <= 0x0F) {
    type = static_cast<std::uint8_t>(*v);
  } else {
    return fail("frame type: unknown type " + quoted(fields[3]) +
                " (expected a type name or an integer from 0 to 15)");
  }
  auto flags = parse_flags(
      kFields[4], fields[4], 0x0F, [type](std::string_view n) { return type_flag_from_name(type, n); },
      flag_names_of(type) + (flag_names_of(type).empty() ? "" : "or "));
  if (!flags) return hgrpc::unexpected<Error>(flags.error());

  f.header.request_id = static_cast<std::uint16_t>(*request_id);
  f.header.stream_id = static_cast<std::uint8_t>(*stream_id);
  f.header.stream_flags = *sflags;
  f.header.type = type;
  f.header.flags = *flags;

  if (payload.starts_with("cbor:")) {
    auto value = parse_python_literal(payload.substr(5));
    if (!value) return fail("payload: " + value.error().message);
    try {
      cbor_encode(*value, f.payload);
    } catch (const std::logic_error& e) {
      return fail(std::string("payload: ") + e.what());
    }
  } else {
    auto bytes = unescape_bytes(payload);
    if (!bytes) return fail("payload: " + bytes.error().message);
    f.payload = std::move(*bytes);
  }
  if (f.payload.size() > kMaxPayloadWireLimit) {
    return fail("payload: " + std::to_string(f.payload.size()) +
                " bytes exceed the 24-bit frame length");
  }
  f.header.length = static_cast<std::uint32_t>(f.payload.size());
  return f;
}

std::string format_human_frame(const Frame& f, const FormatOptions& options) {
  const FrameHeader& h = f.header;
  std::string out = std::to_string(h.request_id) + " " + std::to_string(h.stream_id) + " ";
  out += format_flags(h.stream_flags, stream_flag_name);
  out.push_back(' ');
  auto type_name = frame_type_name(h.type);
  out += type_name.empty() ? std::to_string(h.type) : std::string(type_name);
  out.push_back(' ');
  out += format_flags(h.flags, [&h](std::uint8_t bit) { return type_flag_name(h.type, bit); });
  out.push_back(' ');
  std::optional<std::string> cbor;
  if (options.decode_cbor) cbor = format_cbor_notation(f.payload);
  out += cbor ? *cbor : bytes_notation(f.payload);
  return out;
}

Result<Bytes> parse_human_frames(std::string_view text) {
  Bytes out;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    const auto first = line.find_first_not_of(kBlank);
    if (first == std::string_view::npos || line[first] == '#') continue;
    auto frame = parse_human_frame(line);
    if (!frame) return fail("line " + std::to_string(number) + ": " + frame.error().message);
    append_frame(out, frame->header, frame->payload);
  }
  return out;
}

}  // namespace hgrpc::framing
