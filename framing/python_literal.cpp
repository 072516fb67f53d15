// Python literal notation for CBOR values: a small recursive-descent parser
// (depth bounded by max_depth) and the matching printer.
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "framing/python_literal.hpp"

namespace hgrpc::framing {
namespace {

constexpr char kHex[] = "0123456789abcdef";

bool is_octal(char c) { return c >= '0' && c <= '7'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string pos_text(std::size_t pos) { return " at position " + std::to_string(pos); }

void append_utf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Decodes the escape sequence whose backslash is at text[pos]; advances pos
// past it. Returns the value: a byte for bytes literals, a code point for str
// literals (\u and \U only there).
Result<std::uint32_t> decode_escape(std::string_view text, std::size_t& pos, bool unicode) {
  const std::size_t start = pos;
  if (pos + 1 >= text.size()) return fail("incomplete escape" + pos_text(start));
  const char c = text[pos + 1];
  pos += 2;
  switch (c) {
    case '\\': return std::uint32_t{'\\'};
    case '\'': return std::uint32_t{'\''};
    case '"': return std::uint32_t{'"'};
    case 'n': return std::uint32_t{'\n'};
    case 'r': return std::uint32_t{'\r'};
    case 't': return std::uint32_t{'\t'};
    case 'a': return std::uint32_t{'\a'};
    case 'b': return std::uint32_t{'\b'};
    case 'f': return std::uint32_t{'\f'};
    case 'v': return std::uint32_t{'\v'};
    default: break;
  }
  if (is_octal(c)) {
    std::uint32_t v = static_cast<std::uint32_t>(c - '0');
    for (int i = 0; i < 2 && pos < text.size() && is_octal(text[pos]); ++i, ++pos) {
      v = v * 8 + static_cast<std::uint32_t>(text[pos] - '0');
    }
    if (!unicode && v > 0xFF) {
      return fail("octal escape above \\377" + pos_text(start) + " in a bytes literal");
    }
    return v;
  }
  int digits = 0;
  if (c == 'x') digits = 2;
  if (unicode && c == 'u') digits = 4;
  if (unicode && c == 'U') digits = 8;
  if (digits == 0) {
    return fail(std::string("unknown escape \\") + c + pos_text(start));
  }
  std::uint32_t v = 0;
  for (int i = 0; i < digits; ++i, ++pos) {
    const int h = pos < text.size() ? hex_value(text[pos]) : -1;
    if (h < 0) {
      return fail(std::string("escape \\") + c + pos_text(start) + " needs " +
                  std::to_string(digits) + " hex digits");
    }
    v = v * 16 + static_cast<std::uint32_t>(h);
  }
  if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
    return fail("escape" + pos_text(start) + " is not a valid code point");
  }
  return v;
}

class Parser {
 public:
  Parser(std::string_view text, std::size_t max_depth) : t_(text), max_depth_(max_depth) {}

  Result<json> parse() {
    auto v = value(0);
    if (!v) return v;
    skip_ws();
    if (pos_ < t_.size()) return fail("unexpected '" + std::string(1, t_[pos_]) + "'" + here());
    return v;
  }

 private:
  std::string here() const { return pos_text(pos_); }

  void skip_ws() {
    while (pos_ < t_.size() && (t_[pos_] == ' ' || t_[pos_] == '\t' || t_[pos_] == '\n' ||
                                t_[pos_] == '\r')) {
      ++pos_;
    }
  }

  bool eat(char c) {
    skip_ws();
    if (pos_ < t_.size() && t_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  Result<json> value(std::size_t depth) {
    skip_ws();
    if (pos_ >= t_.size()) return fail("unexpected end of input" + here());
    const char c = t_[pos_];
    if (c == '[' || c == '(' || c == '{') {
      if (depth >= max_depth_) {
        return fail("nesting deeper than " + std::to_string(max_depth_) + here());
      }
      ++pos_;
      if (c == '[') return sequence(']', depth + 1);
      if (c == '(') return tuple(depth + 1);
      return dict_or_set(depth + 1);
    }
    if (c == '\'' || c == '"') return string_literal(false);
    const bool quote_next = pos_ + 1 < t_.size() && (t_[pos_ + 1] == '\'' || t_[pos_ + 1] == '"');
    if ((c == 'b' || c == 'B') && quote_next) {
      ++pos_;
      return string_literal(true);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return integer();
    for (auto [word, v] : {std::pair<std::string_view, json>{"True", json(true)},
                           {"False", json(false)},
                           {"None", json(nullptr)}}) {
      if (t_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return v;
      }
    }
    return fail("unexpected '" + std::string(1, c) + "'" + here());
  }

  // Items up to `close`, with an optional trailing comma.
  Result<json> sequence(char close, std::size_t depth) {
    json out = json::array();
    while (!eat(close)) {
      auto item = value(depth);
      if (!item) return item;
      out.push_back(std::move(*item));
      if (eat(close)) break;
      if (!eat(',')) return expected(std::string("',' or '") + close + "'");
    }
    return out;
  }

  // (x) is just x; (), (x,) and (x, y) are tuples.
  Result<json> tuple(std::size_t depth) {
    if (eat(')')) return json::array();
    auto first = value(depth);
    if (!first) return first;
    if (eat(')')) return first;
    if (!eat(',')) return expected("',' or ')'");
    auto rest = sequence(')', depth);
    if (!rest) return rest;
    rest->insert(rest->begin(), std::move(*first));
    return rest;
  }

  Result<json> dict_or_set(std::size_t depth) {
    if (eat('}')) return json::object();
    skip_ws();
    const std::size_t first_pos = pos_;
    auto first = value(depth);
    if (!first) return first;
    if (!eat(':')) {  // a set
      json out = json::array({std::move(*first)});
      if (eat('}')) return out;
      if (!eat(',')) return expected("',', ':' or '}'");
      auto rest = sequence('}', depth);
      if (!rest) return rest;
      for (auto& item : *rest) out.push_back(std::move(item));
      return out;
    }
    json out = json::object();
    json key = std::move(*first);
    std::size_t key_pos = first_pos;
    while (true) {
      auto key_text = bytes_or_text(key);
      if (!key_text) {
        return fail("dict key" + pos_text(key_pos) + " is " + key.type_name() +
                    ", not bytes or str");
      }
      std::string k = std::move(*key_text);
      if (out.contains(k)) {
        return fail("duplicate dict key b'" + escape_bytes(as_bytes(k)) + "'" + pos_text(key_pos));
      }
      auto v = value(depth);
      if (!v) return v;
      out.emplace(std::move(k), std::move(*v));
      if (eat('}')) return out;
      if (!eat(',')) return expected("',' or '}'");
      if (eat('}')) return out;
      skip_ws();
      key_pos = pos_;
      auto next_key = value(depth);
      if (!next_key) return next_key;
      key = std::move(*next_key);
      if (!eat(':')) return expected("':'");
    }
  }

  Result<json> expected(const std::string& what) {
    skip_ws();
    if (pos_ >= t_.size()) return fail("expected " + what + " but input ends" + here());
    return fail("expected " + what + here() + ", found '" + std::string(1, t_[pos_]) + "'");
  }

  Result<json> string_literal(bool bytes) {
    const std::size_t start = bytes ? pos_ - 1 : pos_;
    const char quote = t_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= t_.size() || t_[pos_] == '\n') {
        return fail(std::string("unterminated ") + (bytes ? "bytes" : "str") + " literal" +
                    pos_text(start));
      }
      const char c = t_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c != '\\') {
        if (bytes && static_cast<unsigned char>(c) >= 0x80) {
          return fail("non-ASCII character in bytes literal" + here());
        }
        out.push_back(c);
        ++pos_;
        continue;
      }
      auto v = decode_escape(t_, pos_, !bytes);
      if (!v) return hgrpc::unexpected<Error>(v.error());
      if (bytes) {
        out.push_back(static_cast<char>(*v));
      } else {
        append_utf8(*v, out);
      }
    }
    if (bytes) return cbor_bytes(out);
    if (!is_valid_utf8(out)) return fail("str literal" + pos_text(start) + " is not valid UTF-8");
    return json(std::move(out));
  }

  Result<json> integer() {
    const std::size_t start = pos_;
    const bool negative = t_[pos_] == '-';
    if (negative) ++pos_;
    int base = 10;
    if (t_.substr(pos_, 2) == "0x" || t_.substr(pos_, 2) == "0X") {
      base = 16;
      pos_ += 2;
    }
    std::uint64_t magnitude = 0;
    const char* first = t_.data() + pos_;
    const char* last = t_.data() + t_.size();
    const auto [ptr, ec] = std::from_chars(first, last, magnitude, base);
    if (ec == std::errc::invalid_argument || ptr == first) {
      return fail("malformed integer" + pos_text(start));
    }
    pos_ += static_cast<std::size_t>(ptr - first);
    constexpr std::uint64_t kMinMagnitude = std::uint64_t{1} << 63;
    if (ec == std::errc::result_out_of_range || (negative && magnitude > kMinMagnitude)) {
      return fail("integer" + pos_text(start) + " does not fit in 64 bits");
    }
    if (!negative || magnitude == 0) return json(magnitude);
    if (magnitude == kMinMagnitude) return json(std::numeric_limits<std::int64_t>::min());
    return json(-static_cast<std::int64_t>(magnitude));
  }

  std::string_view t_;
  std::size_t max_depth_;
  std::size_t pos_ = 0;
};

// The two-character escapes Python's repr uses in str and bytes literals
// alike; nullptr for any other byte.
const char* short_escape(std::uint8_t c) {
  switch (c) {
    case '\\': return "\\\\";
    case '\'': return "\\'";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: return nullptr;
  }
}

void format_str(const std::string& s, std::string& out) {
  out.push_back('\'');
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (const char* e = short_escape(u)) {
      out += e;
      continue;
    }
    if (u < 0x20 || u == 0x7F) {
      out += "\\x";
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xF]);
    } else {
      out.push_back(c);  // printable ASCII, or part of a UTF-8 sequence
    }
  }
  out.push_back('\'');
}

void format(const json& v, std::string& out) {
  switch (v.type()) {
    case json::value_t::null: out += "None"; return;
    case json::value_t::boolean: out += v.get<bool>() ? "True" : "False"; return;
    case json::value_t::binary:
      out += "b'";
      out += escape_bytes(v.get_binary());
      out.push_back('\'');
      return;
    case json::value_t::string: format_str(v.get_ref<const std::string&>(), out); return;
    case json::value_t::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ", ";
        first = false;
        format(item, out);
      }
      out.push_back(']');
      return;
    }
    case json::value_t::object: {
      out.push_back('{');
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        out += "b'";
        out += escape_bytes(as_bytes(it.key()));
        out += "': ";
        format(it.value(), out);
      }
      out.push_back('}');
      return;
    }
    default:  // numbers; floats are not protocol values but print readably
      out += v.dump();
      return;
  }
}

}  // namespace

Result<json> parse_python_literal(std::string_view text, std::size_t max_depth) {
  return Parser(text, max_depth).parse();
}

std::string format_python_literal(const json& v) {
  std::string out;
  format(v, out);
  return out;
}

std::string escape_bytes(ByteView b) {
  std::string out;
  out.reserve(b.size());
  for (std::size_t i = 0; i < b.size(); ++i) {
    const std::uint8_t c = b[i];
    if (const char* e = short_escape(c)) {
      out += e;
      continue;
    }
    if (c == 0 && !(i + 1 < b.size() && is_octal(static_cast<char>(b[i + 1])))) {
      out += "\\0";  // \0 followed by a digit would read as an octal escape
    } else if (c < 0x20 || c >= 0x7F) {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

Result<Bytes> unescape_bytes(std::string_view text) {
  Bytes out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (text[pos] != '\\') {
      out.push_back(static_cast<std::uint8_t>(text[pos++]));
      continue;
    }
    auto v = decode_escape(text, pos, false);
    if (!v) return hgrpc::unexpected<Error>(v.error());
    out.push_back(static_cast<std::uint8_t>(*v));
  }
  return out;
}

}  // namespace hgrpc::framing
