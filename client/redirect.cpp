#include "client/redirect.hpp"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include <openssl/evp.h>
#include <unistd.h>

#include "client/url.hpp"

namespace hgrpc::client {

using framing::ByteView;
using framing::json;

namespace {

std::string hex(ByteView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (auto c : b) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xF];
  }
  return out;
}

// An unlinked temporary file: gone with its descriptor, whatever happens.
class TempFile {
 public:
  TempFile() {
    const char* tmp = std::getenv("TMPDIR");
    std::string path = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/hgrpc-redirect-XXXXXX";
    fd_ = ::mkstemp(path.data());
    if (fd_ >= 0) ::unlink(path.c_str());
    else error_ = "cannot create a temporary file in " + path.substr(0, path.rfind('/')) + ": " + std::strerror(errno);
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const { return fd_; }
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  std::string error_;
};

bool write_all(int fd, ByteView b) {
  while (!b.empty()) {
    const ssize_t n = ::write(fd, b.data(), b.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    b = b.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

json supported_redirects(const json& descriptor) {
  if (!descriptor.is_object()) return nullptr;
  const auto redirect = descriptor.find("redirect");
  if (redirect == descriptor.end() || !redirect->is_object()) return nullptr;
  const auto targets = redirect->find("targets");
  if (targets == redirect->end() || !targets->is_array()) return nullptr;
  json names = json::array();
  for (const auto& t : *targets) {
    if (!t.is_object() || !t.contains("name") || !t.contains("protocol")) continue;
    const auto name = framing::bytes_or_text(t.at("name"));
    if (!name || framing::bytes_or_text(t.at("protocol")) != "http") continue;
    names.push_back(framing::cbor_bytes(*name));
  }
  if (names.empty()) return nullptr;
  return json::object({{"targets", std::move(names)}, {"hashes", json::array({framing::cbor_bytes("sha256")})}});
}

ClientResult<void> follow_redirect(HttpTransport& transport, std::string_view command, const json& location,
                                   std::uint64_t max_bytes, const std::function<framing::Result<void>(json&&)>& each,
                                   ProgressLine* progress) {
  const std::string what = std::string(command) + ": content redirect";
  const auto fail = [&](const std::string& message) { return client_fail(ErrorKind::Protocol, what + ": " + message); };
  const auto url = location.contains("url") ? framing::bytes_or_text(location.at("url")) : std::nullopt;
  if (!url) return fail("the location has no url");
  const std::string at = what + " to " + *url;
  const auto fail_at = [&](const std::string& message) { return client_fail(ErrorKind::Protocol, at + ": " + message); };
  const auto media = location.contains("mediatype") ? framing::bytes_or_text(location.at("mediatype")) : std::nullopt;
  if (media != kCborMediaType) return fail_at("unsupported media type " + media.value_or("(none)"));
  std::optional<std::uint64_t> size;
  if (auto it = location.find("size"); it != location.end()) {
    if (!it->is_number_unsigned()) return fail_at("size is not an unsigned integer");
    size = it->get<std::uint64_t>();
    if (*size > max_bytes) {
      return fail_at("the blob has " + std::to_string(*size) + " bytes, more than --max-redirect-bytes " +
                     std::to_string(max_bytes));
    }
  }
  std::optional<framing::Bytes> expected;
  if (auto it = location.find("fullhashes"); it != location.end() && it->is_array()) {
    for (const auto& h : *it) {
      if (!h.is_array() || h.size() != 2 || framing::bytes_or_text(h[0]) != "sha256") continue;
      if (auto d = framing::bytes_or_text_view(h[1]); d && d->size() == 32) expected = framing::Bytes(d->begin(), d->end());
    }
  }
  if (!expected) return fail_at("the location carries no sha256 full hash");

  TempFile file;
  if (file.fd() < 0) return fail_at(file.error());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!sha || EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr) != 1) return fail_at("SHA-256 failed");
  std::uint64_t received = 0;
  std::optional<std::string> stop;
  const std::uint64_t limit = size.value_or(max_bytes);
  auto got = transport.get_url(
      *url, kCborMediaType,
      [&](ByteView chunk) {
        received += chunk.size();
        if (received > limit) {
          stop = size ? "the blob is longer than its advertised " + std::to_string(*size) + " bytes"
                      : "the blob is longer than --max-redirect-bytes " + std::to_string(max_bytes);
          return false;
        }
        if (EVP_DigestUpdate(sha.get(), chunk.data(), chunk.size()) != 1) {
          stop = "SHA-256 failed";
          return false;
        }
        if (!write_all(file.fd(), chunk)) {
          stop = std::string("writing the temporary file failed: ") + std::strerror(errno);
          return false;
        }
        return true;
      },
      progress);
  if (stop) return fail_at(*stop);
  if (!got) return client_fail(ErrorKind::Protocol, what + ": " + got.error().message);
  if (size && received != *size) {
    return fail_at("the blob has " + std::to_string(received) + " bytes, the location says " + std::to_string(*size));
  }
  std::array<unsigned char, 32> digest{};
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(sha.get(), digest.data(), &n) != 1 || n != 32) return fail_at("SHA-256 failed");
  if (!std::equal(digest.begin(), digest.end(), expected->begin())) {
    return fail_at("sha256 mismatch: the location says " + hex(*expected) + ", the blob's is " +
                   hex(ByteView(digest.data(), digest.size())));
  }

  // Verified: decode it as the inline values would have been.
  if (::lseek(file.fd(), 0, SEEK_SET) != 0) return fail_at(std::string("rewinding the temporary file: ") + std::strerror(errno));
  framing::CborDecoder decoder;
  std::vector<std::uint8_t> buffer(1 << 20);
  for (;;) {
    const ssize_t r = ::read(file.fd(), buffer.data(), buffer.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return fail_at(std::string("reading the temporary file: ") + std::strerror(errno));
    if (r == 0) break;
    if (auto fed = decoder.feed(ByteView(buffer.data(), static_cast<std::size_t>(r))); !fed) {
      return fail_at("the blob is not valid CBOR: " + fed.error().message);
    }
    while (auto v = decoder.next()) {
      if (auto taken = each(std::move(*v)); !taken) return client_fail(ErrorKind::Protocol, taken.error().message);
    }
  }
  if (!decoder.at_boundary()) return fail_at("the blob ends inside a CBOR value");
  return {};
}

}  // namespace hgrpc::client
