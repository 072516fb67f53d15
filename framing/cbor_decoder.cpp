// Incremental CBOR decoder. A push parser with an explicit stack of open
// containers: every input byte is looked at once (string payloads are copied
// in blocks), nothing recurses, and declared lengths are only compared with
// the limits, never used to allocate.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "framing/cbor.hpp"
#include "framing/python_literal.hpp"

namespace hgrpc::framing {
namespace {

constexpr std::uint8_t kBreak = 0xFF;
constexpr std::uint64_t kSetTag = 258;

const char* major_name(std::uint8_t major) {
  switch (major) {
    case 0: return "an unsigned integer";
    case 1: return "a negative integer";
    case 2: return "a byte string";
    case 3: return "a text string";
    case 4: return "an array";
    case 5: return "a map";
    case 6: return "a tag";
    default: return "a simple value or float";
  }
}

const char* string_name(std::uint8_t major) { return major == 2 ? "byte string" : "text string"; }

std::string at(std::uint64_t offset) { return " at offset " + std::to_string(offset); }

}  // namespace

bool is_valid_utf8(std::string_view s) {
  // RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF.
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (n - i < len) return false;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c1 < lo || c1 > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      const auto ck = static_cast<unsigned char>(s[i + k]);
      if (ck < 0x80 || ck > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

struct CborDecoder::State {
  struct Frame {
    json value;                // array or object being filled
    std::uint64_t offset = 0;  // of the container's head
    std::uint64_t remaining = 0;  // items (pairs for maps) still expected, if definite
    std::uint64_t items = 0;
    bool indefinite = false;
    bool is_map = false;
    bool have_key = false;
    std::string key;
  };

  CborLimits limits;
  std::vector<Frame> stack;
  std::deque<json> ready;
  std::optional<Error> error;

  std::uint64_t offset = 0;    // absolute offset of the next input byte
  std::uint64_t consumed = 0;  // end of the last completed top-level value

  // Head being read: initial byte at head_offset plus head_need more bytes.
  std::uint8_t head_major = 0;
  std::uint64_t head_value = 0;
  std::size_t head_need = 0;
  bool in_head = false;
  std::uint64_t head_offset = 0;

  // String being read (definite, or the chunks of an indefinite one).
  Bytes str;
  std::uint8_t str_major = 0;
  std::uint64_t str_offset = 0;
  std::uint64_t str_remaining = 0;  // payload bytes of the current chunk
  bool in_payload = false;
  bool indefinite_string = false;

  // A tag 258 was read; the next item must be an array.
  bool expect_set = false;
  std::uint64_t set_offset = 0;

  explicit State(CborLimits l) : limits(l) {}

  bool at_boundary() const {
    return stack.empty() && !in_head && !in_payload && !indefinite_string && !expect_set;
  }

  Result<void> failure(std::string message) {
    error = Error{"CBOR: " + std::move(message)};
    return fail(error->message);
  }

  Result<void> feed(ByteView chunk) {
    if (error) return fail(error->message);
    const std::uint8_t* p = chunk.data();
    const std::uint8_t* end = p + chunk.size();
    while (p < end) {
      if (in_payload) {
        const auto avail = static_cast<std::uint64_t>(end - p);
        const auto take = static_cast<std::size_t>(std::min(avail, str_remaining));
        str.insert(str.end(), p, p + take);
        p += take;
        offset += take;
        str_remaining -= take;
        if (str_remaining == 0) {
          in_payload = false;
          if (!indefinite_string) {
            if (auto r = finish_string(); !r) return r;
          }
        }
        continue;
      }
      const std::uint8_t b = *p++;
      ++offset;
      if (!in_head) {
        if (auto r = initial_byte(b); !r) return r;
        continue;
      }
      head_value = (head_value << 8) | b;
      if (--head_need == 0) {
        in_head = false;
        if (auto r = head(head_major, head_value); !r) return r;
      }
    }
    return {};
  }

  // Checks everything the initial byte alone decides, then either completes
  // the item or starts reading its argument.
  Result<void> initial_byte(std::uint8_t b) {
    const std::uint64_t here = offset - 1;
    const auto major = static_cast<std::uint8_t>(b >> 5);
    const auto ai = static_cast<std::uint8_t>(b & 0x1F);
    if (indefinite_string) {
      if (b == kBreak) {
        indefinite_string = false;
        return finish_string();
      }
      if (major != str_major || ai == 31) {
        return failure(std::string("chunk") + at(here) + " of the indefinite-length " +
                       string_name(str_major) + at(str_offset) + " is " +
                       (major == str_major ? "itself indefinite-length" : major_name(major)) +
                       ", not a definite " + string_name(str_major));
      }
    }
    if (expect_set && major != 4) {
      return failure("tag 258 (set)" + at(set_offset) + " wraps " + major_name(major) +
                     at(here) + ", not an array");
    }
    if (!indefinite_string && !stack.empty() && stack.back().is_map && !stack.back().have_key &&
        b != kBreak && major != 2 && major != 3) {
      return failure("map key" + at(here) + " is " + major_name(major) +
                     ", not a byte or text string");
    }
    if (major == 7) return simple(ai, here);
    if (ai >= 28 && ai <= 30) {
      return failure("reserved additional information " + std::to_string(ai) + " in byte " +
                     hex_byte(b) + at(here));
    }
    head_offset = here;
    if (ai == 31) {
      if (major == 2 || major == 3) {
        expect_set = false;
        start_string(major, here);
        indefinite_string = true;
        return {};
      }
      if (major == 4 || major == 5) return open(major, 0, true);
      return failure(std::string("indefinite length is not allowed for ") + major_name(major) +
                     at(here));
    }
    if (ai < 24) return head(major, ai);
    head_major = major;
    head_value = 0;
    head_need = std::size_t{1} << (ai - 24);
    in_head = true;
    return {};
  }

  Result<void> simple(std::uint8_t ai, std::uint64_t here) {
    switch (ai) {
      case 20: return complete(json(false));
      case 21: return complete(json(true));
      case 22: return complete(json(nullptr));
      case 31: return brk(here);
      case 23: return failure("undefined" + at(here) + " is not supported");
      case 24: return failure("simple value" + at(here) + " is not supported");
      case 25: return failure("half-precision float" + at(here) + " is not supported");
      case 26: return failure("single-precision float" + at(here) + " is not supported");
      case 27: return failure("double-precision float" + at(here) + " is not supported");
      default:
        if (ai >= 28) {
          return failure("reserved additional information " + std::to_string(ai) +
                         " in byte " + hex_byte(static_cast<std::uint8_t>(0xE0 | ai)) + at(here));
        }
        return failure("simple value " + std::to_string(ai) + at(here) + " is not supported");
    }
  }

  Result<void> brk(std::uint64_t here) {
    if (stack.empty() || !stack.back().indefinite) {
      return failure("unexpected break byte" + at(here));
    }
    Frame& top = stack.back();
    if (top.have_key) {
      return failure("break byte" + at(here) + " ends the map" + at(top.offset) +
                     " after a key without a value");
    }
    json v = std::move(top.value);
    stack.pop_back();
    return complete(std::move(v));
  }

  // A head with its argument: start or complete the item.
  Result<void> head(std::uint8_t major, std::uint64_t value) {
    const std::uint64_t here = head_offset;
    switch (major) {
      case 0:
        return complete(json(value));
      case 1:
        if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return failure("negative integer -1-" + std::to_string(value) + at(here) +
                         " is below the 64-bit signed range");
        }
        return complete(json(-1 - static_cast<std::int64_t>(value)));
      case 2:
      case 3: {
        const std::size_t have = indefinite_string ? str.size() : 0;
        if (value > limits.max_string_bytes - have) {
          const std::string what = indefinite_string
                                       ? " grows the string" + at(str_offset) + " beyond"
                                       : std::string(" exceeds");
          return failure(std::string(string_name(major)) +
                         (indefinite_string ? " chunk of " : " of ") + std::to_string(value) +
                         " bytes" + at(here) + what + " the limit of " +
                         std::to_string(limits.max_string_bytes));
        }
        if (!indefinite_string) {
          expect_set = false;
          start_string(major, here);
        }
        str_remaining = value;
        if (value == 0) {
          return indefinite_string ? Result<void>{} : finish_string();
        }
        in_payload = true;
        return {};
      }
      case 4:
      case 5:
        if (value > limits.max_container_items) {
          return failure(std::string(major == 4 ? "array" : "map") + " of " +
                         std::to_string(value) + (major == 4 ? " items" : " entries") + at(here) +
                         " exceeds the limit of " + std::to_string(limits.max_container_items));
        }
        return open(major, value, false);
      default:  // 6: tag
        if (value != kSetTag) {
          return failure("unsupported tag " + std::to_string(value) + at(here));
        }
        expect_set = true;
        set_offset = here;
        return {};
    }
  }

  void start_string(std::uint8_t major, std::uint64_t here) {
    str.clear();
    str_major = major;
    str_offset = here;
  }

  Result<void> finish_string() {
    if (str_major == 2) {
      json v = json::binary(std::move(str));
      str = Bytes{};
      return complete(std::move(v));
    }
    std::string s(as_chars(str));
    if (!is_valid_utf8(s)) {
      return failure("text string" + at(str_offset) + " is not valid UTF-8");
    }
    return complete(json(std::move(s)));
  }

  Result<void> open(std::uint8_t major, std::uint64_t count, bool indefinite) {
    const std::uint64_t here = head_offset;
    expect_set = false;
    if (stack.size() >= limits.max_depth) {
      return failure(std::string(major == 4 ? "array" : "map") + at(here) +
                     " nests deeper than the limit of " + std::to_string(limits.max_depth));
    }
    if (!indefinite && count == 0) {
      return complete(major == 4 ? json::array() : json::object());
    }
    Frame f;
    f.value = major == 4 ? json::array() : json::object();
    f.offset = here;
    f.remaining = count;
    f.indefinite = indefinite;
    f.is_map = major == 5;
    stack.push_back(std::move(f));
    return {};
  }

  // An item is complete: hand it to the enclosing container, closing every
  // definite container it completes in turn.
  Result<void> complete(json v) {
    while (true) {
      if (stack.empty()) {
        ready.push_back(std::move(v));
        consumed = offset;
        return {};
      }
      Frame& top = stack.back();
      if (top.is_map && !top.have_key) {
        std::string key = v.is_binary() ? std::string(as_chars(v.get_binary()))
                                        : std::move(v.get_ref<std::string&>());
        if (top.value.contains(key)) {
          // Quote at most 64 bytes of the key: keys can be as long as any string.
          const auto shown = as_bytes(key).first(std::min<std::size_t>(key.size(), 64));
          return failure("duplicate map key b'" + escape_bytes(shown) +
                         (key.size() > 64 ? "'..." : "'") + at(str_offset) + " in the map" +
                         at(top.offset));
        }
        top.key = std::move(key);
        top.have_key = true;
        return {};
      }
      if (top.is_map) {
        top.value.emplace(std::move(top.key), std::move(v));
        top.key.clear();
        top.have_key = false;
      } else {
        top.value.push_back(std::move(v));
      }
      ++top.items;
      if (top.indefinite) {
        if (top.items > limits.max_container_items) {
          return failure(std::string("indefinite-length ") + (top.is_map ? "map" : "array") +
                         at(top.offset) + " has more than " +
                         std::to_string(limits.max_container_items) +
                         (top.is_map ? " entries" : " items"));
        }
        return {};
      }
      if (--top.remaining != 0) return {};
      v = std::move(top.value);
      stack.pop_back();
    }
  }
};

CborDecoder::CborDecoder(CborLimits limits) : state_(std::make_unique<State>(limits)) {}
CborDecoder::~CborDecoder() = default;
CborDecoder::CborDecoder(CborDecoder&&) noexcept = default;
CborDecoder& CborDecoder::operator=(CborDecoder&&) noexcept = default;

Result<void> CborDecoder::feed(ByteView chunk) { return state_->feed(chunk); }

std::optional<json> CborDecoder::next() {
  if (state_->ready.empty()) return std::nullopt;
  json v = std::move(state_->ready.front());
  state_->ready.pop_front();
  return v;
}

std::size_t CborDecoder::available() const { return state_->ready.size(); }

bool CborDecoder::at_boundary() const { return state_->at_boundary(); }

std::uint64_t CborDecoder::bytes_consumed() const { return state_->consumed; }

Result<std::vector<json>> cbor_decode_all(ByteView data, CborLimits limits) {
  CborDecoder decoder(limits);
  if (auto r = decoder.feed(data); !r) return hgrpc::unexpected<Error>(r.error());
  if (!decoder.at_boundary()) {
    return fail("CBOR: input ends at offset " + std::to_string(data.size()) +
                " inside the value starting at offset " +
                std::to_string(decoder.bytes_consumed()));
  }
  std::vector<json> values;
  values.reserve(decoder.available());
  while (auto v = decoder.next()) values.push_back(std::move(*v));
  return values;
}

}  // namespace hgrpc::framing
