#include "store/node.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace hgrpc::store {
namespace {
constexpr char kHexDigits[] = "0123456789abcdef";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string hex(ByteView bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 15]);
  }
  return out;
}

std::string hex(const Node& node) { return hex(ByteView(node)); }

std::optional<Node> node_from_bytes(ByteView bytes) {
  if (bytes.size() != 20) return std::nullopt;
  Node node;
  std::copy(bytes.begin(), bytes.end(), node.begin());
  return node;
}

std::optional<Node> unhex(std::string_view text) {
  if (text.size() != 40) return std::nullopt;
  Node node;
  for (std::size_t i = 0; i < 20; ++i) {
    int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    node[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return node;
}

// OpenSSL's EVP interface (the SHA1_* functions are deprecated in 3.0).
// EVP_sha1() makes every DigestInit fetch the algorithm again (a lookup
// under a lock, as costly as hashing a short changeset): fetch it once, and
// keep one context per thread.
namespace {
const EVP_MD* sha1_algorithm() {
  static const std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md(EVP_MD_fetch(nullptr, "SHA1", nullptr), EVP_MD_free);
  if (!md) throw std::runtime_error("OpenSSL: no SHA-1 implementation");
  return md.get();
}

EVP_MD_CTX* thread_context() {
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx) throw std::runtime_error("OpenSSL: out of memory for a digest context");
  return ctx.get();
}

template <typename... Views>
Node sha1_of(const Views&... parts) {
  EVP_MD_CTX* ctx = thread_context();
  Node out;
  bool ok = EVP_DigestInit_ex2(ctx, sha1_algorithm(), nullptr) == 1;
  ((ok = ok && EVP_DigestUpdate(ctx, parts.data(), parts.size()) == 1), ...);
  if (!ok || EVP_DigestFinal_ex(ctx, out.data(), nullptr) != 1) throw std::runtime_error("OpenSSL SHA-1 failed");
  return out;
}
}  // namespace

Node sha1(ByteView bytes) { return sha1_of(bytes); }

Node hash_revision(const Node& p1, const Node& p2, ByteView text) {
  const Node& a = p1 < p2 ? p1 : p2;
  const Node& b = p1 < p2 ? p2 : p1;
  return sha1_of(a, b, text);
}

}  // namespace hgrpc::store
