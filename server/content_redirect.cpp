#include "server/content_redirect.hpp"

#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "framing/response_emitter.hpp"
#include "server/response_cache.hpp"
#include "server/response_sink.hpp"

namespace hgrpc::server {

using framing::ByteView;
using framing::Bytes;
using framing::cbor_bytes;
using framing::json;

namespace {

bool valid_target_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name) {
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == '-')) return false;
  }
  return true;
}

std::string hex(ByteView b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(b.size() * 2);
  for (auto c : b) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xF];
  }
  return out;
}

std::string errno_text() { return std::strerror(errno); }

// Off-file-descriptor stat: the regular file's size, nullopt if absent or not a file.
std::optional<std::uint64_t> file_size(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return static_cast<std::uint64_t>(st.st_size);
}

bool write_all(int fd, ByteView b) {
  while (!b.empty()) {
    const ssize_t n = ::write(fd, b.data(), b.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    b = b.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

// The response's values as they are produced: kept in memory while below
// min_bytes (a small answer then goes inline without touching the disk),
// past that streamed to a temporary file in the target's directory, hashed
// on the way. commit() names the file by its sha256; the destructor removes
// an uncommitted temporary.
class BlobWriter {
 public:
  BlobWriter(std::string dir, std::uint64_t min_bytes)
      : dir_(std::move(dir)), min_bytes_(min_bytes), sha_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!sha_ || EVP_DigestInit_ex(sha_.get(), EVP_sha256(), nullptr) != 1)
      throw std::runtime_error("OpenSSL SHA-256 failed");
  }
  ~BlobWriter() {
    if (fd_ >= 0) ::close(fd_);
    if (!temp_.empty()) ::unlink(temp_.c_str());
  }
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // False once writing failed (error() says why).
  bool write(ByteView b) {
    if (!error_.empty()) return false;
    if (b.empty()) return true;
    if (EVP_DigestUpdate(sha_.get(), b.data(), b.size()) != 1) return fail("SHA-256 failed");
    size_ += b.size();
    if (fd_ < 0) {
      framing::append(buffer_, b);
      if (buffer_.size() < min_bytes_) return true;
      if (!open_temp()) return false;
      b = buffer_;
    }
    if (!write_all(fd_, b)) return fail("writing " + temp_ + ": " + errno_text());
    if (!buffer_.empty()) Bytes().swap(buffer_);
    return true;
  }

  bool small() const { return fd_ < 0 && size_ < min_bytes_; }
  const Bytes& buffer() const { return buffer_; }
  std::uint64_t size() const { return size_; }
  const std::string& error() const { return error_; }

  // Closes the file and names it DIR/<sha256 hex>; an existing file of that
  // name and size is the same blob (content-addressed) and is kept.
  // reused: that happened.
  std::optional<RedirectBlob> commit(bool& reused) {
    RedirectBlob blob;
    blob.sha256.resize(32);
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(sha_.get(), blob.sha256.data(), &n) != 1 || n != 32) {
      fail("SHA-256 failed");
      return std::nullopt;
    }
    blob.name = hex(blob.sha256);
    blob.size = size_;
    if (fd_ < 0 && !open_temp()) return std::nullopt;  // min_bytes 0 and an empty answer
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) {
      fail("closing " + temp_ + ": " + errno_text());
      return std::nullopt;
    }
    const std::string final_path = dir_ + "/" + blob.name;
    reused = file_size(final_path) == blob.size;
    if (reused) {
      ::unlink(temp_.c_str());
    } else if (::rename(temp_.c_str(), final_path.c_str()) != 0) {
      fail("renaming " + temp_ + " to " + final_path + ": " + errno_text());
      return std::nullopt;
    }
    temp_.clear();
    return blob;
  }

 private:
  bool fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
    return false;
  }
  bool open_temp() {
    std::string path = dir_ + "/.hgrpcd-blob-XXXXXX";
    const int fd = ::mkstemp(path.data());
    if (fd < 0) return fail("creating a file in " + dir_ + ": " + errno_text());
    fd_ = fd;
    temp_ = std::move(path);
    // mkstemp makes 0600; the static server usually runs as another user.
    if (::fchmod(fd_, 0644) != 0) return fail("chmod " + temp_ + ": " + errno_text());
    return true;
  }

  std::string dir_;
  std::uint64_t min_bytes_;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha_;
  Bytes buffer_;
  std::uint64_t size_ = 0;
  int fd_ = -1;
  std::string temp_;
  std::string error_;
};

constexpr std::size_t kMaxIndexEntries = 4096;
constexpr std::size_t kBlobBatchBytes = 256 * 1024;

}  // namespace

hgrpc::expected<RedirectTarget, std::string> parse_redirect_target(std::string_view spec) {
  const auto fail = [&](std::string why) {
    return hgrpc::unexpected<std::string>("--redirect-target " + std::string(spec) + ": " + why +
                                          " (expected NAME=URL,DIR)");
  };
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos) return fail("no '='");
  RedirectTarget t;
  t.name = std::string(spec.substr(0, eq));
  if (!valid_target_name(t.name)) return fail("NAME must be 1 to 64 letters, digits, '.', '_' or '-'");
  const std::string_view rest = spec.substr(eq + 1);
  const auto comma = rest.rfind(',');
  if (comma == std::string_view::npos) return fail("no ',' between URL and DIR");
  std::string_view url = rest.substr(0, comma);
  t.dir = std::string(rest.substr(comma + 1));
  if (t.dir.empty()) return fail("DIR is empty");
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return fail("URL has no scheme");
  t.protocol = std::string(url.substr(0, scheme_end));
  if (t.protocol != "http" && t.protocol != "https") return fail("URL scheme must be http or https");
  const std::string_view after = url.substr(scheme_end + 3);
  if (after.empty() || after.front() == '/') return fail("URL has no host");
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) return fail("URL contains a space or a control or non-ASCII character");
  }
  if (url.find_first_of("?#") != std::string_view::npos) return fail("URL must not have a query or fragment");
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  t.url = std::string(url);
  while (t.dir.size() > 1 && t.dir.back() == '/') t.dir.pop_back();
  return t;
}

std::optional<std::string> check_redirect_dir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return "redirect directory " + dir + ": " + errno_text();
  if (!S_ISDIR(st.st_mode)) return "redirect directory " + dir + " is not a directory";
  std::string probe = dir + "/.hgrpcd-probe-XXXXXX";
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) return "redirect directory " + dir + " is not writable: " + errno_text();
  ::close(fd);
  ::unlink(probe.c_str());
  return std::nullopt;
}

json redirect_capability(const std::vector<RedirectTarget>& targets) {
  json list = json::array();
  for (const auto& t : targets) {
    json entry = json::object();
    entry["name"] = cbor_bytes(t.name);
    entry["protocol"] = cbor_bytes(t.protocol);
    entry["uris"] = json::array({cbor_bytes(t.url)});
    entry["snirequired"] = false;
    list.push_back(std::move(entry));
  }
  json map = json::object();
  map["targets"] = std::move(list);
  map["hashes"] = json::array({cbor_bytes("sha256"), cbor_bytes("sha1")});
  return map;
}

void advertise_redirect_targets(CommandRegistry& registry, const std::vector<RedirectTarget>& targets) {
  if (targets.empty()) return;
  json overrides = registry.descriptor_overrides();
  overrides["redirect"] = redirect_capability(targets);
  registry.set_descriptor_overrides(std::move(overrides));
}

std::string_view redirect_outcome_name(RedirectOutcome o) {
  switch (o) {
    case RedirectOutcome::None: return "";
    case RedirectOutcome::New: return "new";
    case RedirectOutcome::Reused: return "reused";
    case RedirectOutcome::Small: return "small";
    case RedirectOutcome::Failed: return "failed";
  }
  return "";
}

RedirectStore::RedirectStore(std::vector<RedirectTarget> targets, std::uint64_t min_bytes)
    : targets_(std::move(targets)), min_bytes_(min_bytes) {}

const RedirectTarget* RedirectStore::choose(const json& request_redirect) const {
  if (!request_redirect.is_object()) return nullptr;
  const auto it = request_redirect.find("targets");
  if (it == request_redirect.end() || !it->is_array()) return nullptr;
  for (const auto& name : *it) {
    const auto text = framing::bytes_or_text(name);
    if (!text) continue;
    for (const auto& t : targets_) {
      if (t.name == *text) return &t;
    }
  }
  return nullptr;
}

std::optional<RedirectBlob> RedirectStore::find(const RedirectTarget& target, const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = index_.find(target.name + "|" + key);
  if (it == index_.end()) return std::nullopt;
  // The directory may have been cleaned since: check the file is there.
  if (file_size(target.dir + "/" + it->second.name) != it->second.size) {
    index_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void RedirectStore::remember(const RedirectTarget& target, const std::string& key, const RedirectBlob& blob) {
  std::lock_guard lock(mutex_);
  if (index_.size() >= kMaxIndexEntries) index_.clear();  // a repository's new state makes old keys dead anyway
  index_.insert_or_assign(target.name + "|" + key, blob);
}

json RedirectStore::location(const RedirectTarget& target, const RedirectBlob& blob) const {
  // In 5.8's bytes: createalternatelocationresponseframe keys url and
  // mediatype as bytes but the optional keys as pycompat.bytestr, and
  // cborutil sorts map keys by type name first, so the optional keys come
  // last: mediatype, url, fullhashes, size. A json object would sort them.
  Bytes out;
  framing::cbor_append_map_head(4, out);
  const auto pair = [&](std::string_view key, const json& value) {
    framing::cbor_encode(cbor_bytes(key), out);
    framing::cbor_encode(value, out);
  };
  pair("mediatype", cbor_bytes(kRedirectMediaType));
  pair("url", cbor_bytes(target.url + "/" + blob.name));
  pair("fullhashes", json::array({json::array({cbor_bytes("sha256"), cbor_bytes(ByteView(blob.sha256))})}));
  pair("size", blob.size);
  return framing::cbor_pre_encoded(std::move(out));
}

void RedirectStore::count_failure(const std::string& why) {
  failures_.fetch_add(1, std::memory_order_relaxed);
  if (failure_log_) failure_log_(why);
}

RedirectStats RedirectStore::stats() const {
  return {redirects_.load(std::memory_order_relaxed), redirect_bytes_.load(std::memory_order_relaxed),
          failures_.load(std::memory_order_relaxed)};
}

CommandStatus answer_with_redirect(RedirectRequest& request, ResponseCache* cache, const std::string& blob_key,
                                   ResponseSink& out, const std::function<CommandStatus(ResponseSink&)>& compute,
                                   const std::function<CommandStatus()>& inline_answer) {
  RedirectStore& store = *request.store;
  const RedirectTarget& target = *request.target;
  const auto send_redirect = [&](const RedirectBlob& blob, RedirectOutcome outcome) -> CommandStatus {
    request.outcome = outcome;
    store.count_redirect(blob.size);
    out.redirect(store.location(target, blob));
    return {};
  };
  if (auto blob = store.find(target, blob_key)) return send_redirect(*blob, RedirectOutcome::Reused);

  // The response framed as usual on a private emitter; the payloads of its
  // command-response frames after the first (the status map) are the blob.
  BlobWriter writer(target.dir, store.min_bytes());
  static const Bytes kStatusOk = framing::cbor_encode(json::object({{"status", cbor_bytes("ok")}}));
  bool status_seen = false;
  bool not_ok = false;  // an error frame: the answer is not a successful one
  framing::ResponseEmitter emitter(0, 1, framing::EmitterOptions{.max_frame_size = kBlobBatchBytes});
  ResponseSink blob_sink(
      emitter,
      [&](framing::PlannedFrames& frames, framing::ResponseEmitter&) {
        bool ok = true;
        for (const auto& f : frames) {
          if (!ok) break;
          if (f.type != framing::FrameType::CommandResponse) {
            not_ok = true;
          } else if (!status_seen) {
            status_seen = true;
            not_ok = not_ok || f.payload != kStatusOk;
          } else {
            ok = writer.write(f.payload);
          }
        }
        frames.clear();
        return ok;
      },
      kBlobBatchBytes, false);
  CommandStatus status = answer_with_cache(cache, blob_key, blob_sink, [&] { return compute(blob_sink); });
  if (status && blob_sink.ok()) blob_sink.finish();
  // The answer is computed again inline: a failure (disk full) costs the
  // handler twice, and only that request.
  const auto fall_back = [&]() -> CommandStatus {
    store.count_failure("target " + target.name + ": " +
                        (writer.error().empty() ? std::string("the answer was not complete") : writer.error()) +
                        "; answered inline");
    request.outcome = RedirectOutcome::Failed;
    return inline_answer();
  };
  if (!writer.error().empty()) return fall_back();
  if (!status) return status;  // a command error, answered as such
  if (not_ok || !blob_sink.ok()) return fall_back();
  if (writer.small()) {
    request.outcome = RedirectOutcome::Small;
    if (!writer.buffer().empty()) out.encoded(writer.buffer());
    return {};
  }
  bool reused = false;
  auto blob = writer.commit(reused);
  if (!blob) return fall_back();
  store.remember(target, blob_key, *blob);
  return send_redirect(*blob, reused ? RedirectOutcome::Reused : RedirectOutcome::New);
}

}  // namespace hgrpc::server
