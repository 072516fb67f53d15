#include "store/changelog.hpp"

#include <charconv>
#include <cstdlib>

namespace hgrpc::store {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// Python's escape decoding, which is what Mercurial applies to each extra.
Result<std::string> unescape_extra(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    if (++i == s.size()) return fail("trailing backslash in extra");
    char c = s[i];
    switch (c) {
      case '\n': break;  // line continuation
      case '\\': out.push_back('\\'); break;
      case '\'': out.push_back('\''); break;
      case '"': out.push_back('"'); break;
      case 'a': out.push_back('\a'); break;
      case 'b': out.push_back('\b'); break;
      case 'f': out.push_back('\f'); break;
      case 'n': out.push_back('\n'); break;
      case 'r': out.push_back('\r'); break;
      case 't': out.push_back('\t'); break;
      case 'v': out.push_back('\v'); break;
      case 'x': {
        int hi = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
        int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
        if (hi < 0 || lo < 0) return fail("invalid \\x escape in extra");
        out.push_back(static_cast<char>(hi << 4 | lo));
        i += 2;
        break;
      }
      case '0':  // Mercurial turns "\\0" into NUL before decoding: no octal digits follow
        out.push_back('\0');
        break;
      default:
        if (c >= '1' && c <= '7') {
          int value = c - '0';
          for (int n = 0; n < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++n) {
            value = value * 8 + (s[++i] - '0');
          }
          out.push_back(static_cast<char>(value & 0xff));
        } else {
          out.push_back('\\');  // unknown escapes stay as they are
          out.push_back(c);
        }
    }
  }
  return out;
}

Result<ChangelogEntry> parse_changelog_entry(ByteView bytes) {
  std::string_view text = as_chars(bytes);
  ChangelogEntry entry;
  entry.extras["branch"] = "default";
  if (text.empty()) return entry;
  std::size_t nl1 = text.find('\n');
  std::size_t nl2 = nl1 == std::string_view::npos ? nl1 : text.find('\n', nl1 + 1);
  std::size_t nl3 = nl2 == std::string_view::npos ? nl2 : text.find('\n', nl2 + 1);
  if (nl3 == std::string_view::npos) return fail("changelog entry has fewer than 3 lines");
  std::size_t double_nl = text.substr(nl3 + 1, 1) == "\n" ? nl3 : text.find("\n\n", nl3 + 1);
  if (double_nl == std::string_view::npos) {
    return fail("changelog entry has no blank line before its description");
  }
  auto manifest = unhex(text.substr(0, nl1));
  if (!manifest) return fail("changelog entry's manifest node is not 40 hex digits");
  entry.manifest = *manifest;
  entry.user = std::string(text.substr(nl1 + 1, nl2 - nl1 - 1));

  std::string_view date_line = text.substr(nl2 + 1, nl3 - nl2 - 1);
  std::size_t sp1 = date_line.find(' ');
  std::string time_text(date_line.substr(0, sp1));
  char* end = nullptr;
  entry.time = std::strtod(time_text.c_str(), &end);
  if (time_text.empty() || end != time_text.c_str() + time_text.size()) {
    return fail("changelog entry's time '" + time_text + "' is not a number");
  }
  if (sp1 != std::string_view::npos) {
    std::string_view rest = date_line.substr(sp1 + 1);
    std::size_t sp2 = rest.find(' ');
    std::string_view tz = rest.substr(0, sp2);
    int value = 0;
    auto [p, ec] = std::from_chars(tz.data(), tz.data() + tz.size(), value);
    entry.timezone = ec == std::errc() && p == tz.data() + tz.size() ? value : 0;
    if (sp2 != std::string_view::npos) {
      std::string_view extras = rest.substr(sp2 + 1);
      std::size_t start = 0;
      while (start <= extras.size()) {
        std::size_t nul = std::min(extras.find('\0', start), extras.size());
        std::string_view raw = extras.substr(start, nul - start);
        if (!raw.empty()) {
          // "\0" escapes survive the split above as backslash-zero.
          auto item = unescape_extra(raw);
          if (!item) return hgrpc::unexpected<Error>(item.error());
          std::size_t colon = item->find(':');
          if (colon == std::string::npos) return fail("changelog extra '" + *item + "' has no ':'");
          entry.extras[item->substr(0, colon)] = item->substr(colon + 1);
        }
        start = nul + 1;
      }
    }
  }
  if (double_nl > nl3) {
    std::string_view files = text.substr(nl3 + 1, double_nl - nl3 - 1);
    std::size_t start = 0;
    for (;;) {
      std::size_t nl = files.find('\n', start);
      entry.files.emplace_back(files.substr(start, nl - start));
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  }
  entry.description = std::string(text.substr(double_nl + 2));
  return entry;
}

}  // namespace hgrpc::store
