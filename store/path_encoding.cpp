// Mercurial's store path encodings (store.py), rewritten from their
// description: per-byte escaping, Windows reserved names, and a hashed form
// for paths longer than 120 bytes.
#include "store/path_encoding.hpp"

#include <cstdio>
#include <vector>

#include "store/node.hpp"

namespace hgrpc::store {
namespace {

constexpr std::size_t kMaxStorePathLength = 120;
constexpr std::size_t kDirPrefixLength = 8;
constexpr std::size_t kMaxShortDirsLength = 8 * (kDirPrefixLength + 1) - 4;

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

void append_escape(std::string& out, unsigned char c) {
  char buf[4];
  std::snprintf(buf, sizeof buf, "~%02x", c);
  out += buf;
}

bool is_reserved(unsigned char c) {
  return c < 32 || c >= 126 || std::string_view("\\:*?\"<>|").find(static_cast<char>(c)) != std::string_view::npos;
}

// A-Z -> _a.._z and _ -> __ (encode_case); or A-Z -> a-z (lower only).
std::string encode_bytes(std::string_view s, bool encode_case) {
  std::string out;
  out.reserve(s.size() * 2);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (is_reserved(c)) {
      append_escape(out, c);
    } else if (c >= 'A' && c <= 'Z') {
      if (encode_case) out.push_back('_');
      out.push_back(static_cast<char>(c - 'A' + 'a'));
    } else if (c == '_' && encode_case) {
      out += "__";
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = s.find('/', start);
    parts.emplace_back(s.substr(start, slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out.push_back('/');
    out += parts[i];
  }
  return out;
}

bool is_reserved_name(std::string_view n) {
  std::size_t stem = std::min(n.find('.'), n.size());
  if (stem == 3) {
    auto s = n.substr(0, 3);
    return s == "aux" || s == "con" || s == "prn" || s == "nul";
  }
  if (stem == 4 && n[3] >= '1' && n[3] <= '9') {
    auto s = n.substr(0, 3);
    return s == "com" || s == "lpt";
  }
  return false;
}

// Windows reserved names and a trailing '.' or ' ', per path component;
// with dotencode also a leading '.' or ' '.
void aux_encode(std::vector<std::string>& parts, bool dotencode) {
  for (auto& n : parts) {
    if (n.empty()) continue;
    if (dotencode && (n[0] == '.' || n[0] == ' ')) {
      std::string head;
      append_escape(head, static_cast<unsigned char>(n[0]));
      n = head + n.substr(1);
    } else if (is_reserved_name(n)) {
      std::string third;
      append_escape(third, static_cast<unsigned char>(n[2]));
      n = n.substr(0, 2) + third + n.substr(3);
    }
    if (n.back() == '.' || n.back() == ' ') {
      auto last = static_cast<unsigned char>(n.back());
      n.pop_back();
      append_escape(n, last);
    }
  }
}

// The hashed form of a dir-encoded path: dh/<short dirs>/<filler><sha1><ext>.
std::string hash_encode(const std::string& path, bool dotencode) {
  std::string digest = hex(sha1(as_bytes(path)));
  auto parts = split(encode_bytes(std::string_view(path).substr(std::min<std::size_t>(5, path.size())), false));
  aux_encode(parts, dotencode);
  const std::string& basename = parts.back();
  std::size_t dot = basename.rfind('.');
  // os.path.splitext: a dot that only leads the name is no extension.
  std::string ext;
  if (dot != std::string::npos && basename.find_first_not_of('.') < dot) ext = basename.substr(dot);
  std::string dirs;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    std::string d = parts[i].substr(0, kDirPrefixLength);
    if (!d.empty() && (d.back() == '.' || d.back() == ' ')) d.back() = '_';
    std::size_t t = dirs.empty() ? d.size() : dirs.size() + 1 + d.size();
    if (!dirs.empty() && t > kMaxShortDirsLength) break;
    if (!dirs.empty()) dirs.push_back('/');
    dirs += d;
  }
  if (!dirs.empty()) dirs.push_back('/');
  std::string res = "dh/" + dirs + digest + ext;
  if (res.size() < kMaxStorePathLength) {
    std::size_t space = kMaxStorePathLength - res.size();
    res = "dh/" + dirs + basename.substr(0, space) + digest + ext;
  }
  return res;
}

}  // namespace

std::string encode_dir(std::string_view path) {
  std::string s(path);
  replace_all(s, ".hg/", ".hg.hg/");
  replace_all(s, ".i/", ".i.hg/");
  replace_all(s, ".d/", ".d.hg/");
  return s;
}

std::string encode_store_path(std::string_view path, StoreKind kind) {
  std::string dir_encoded = encode_dir(path);
  switch (kind) {
    case StoreKind::kBasic:
      return dir_encoded;
    case StoreKind::kEncoded:
      return encode_bytes(dir_encoded, true);
    case StoreKind::kFncache:
    case StoreKind::kFncacheDotencode: {
      bool dotencode = kind == StoreKind::kFncacheDotencode;
      // _pathencode checks the raw length first; _hybridencode does not.
      if (dotencode && path.size() > kMaxStorePathLength) return hash_encode(dir_encoded, true);
      auto parts = split(encode_bytes(dir_encoded, true));
      aux_encode(parts, dotencode);
      std::string res = join(parts);
      if (res.size() > kMaxStorePathLength) return hash_encode(dir_encoded, dotencode);
      return res;
    }
  }
  return dir_encoded;
}

}  // namespace hgrpc::store
