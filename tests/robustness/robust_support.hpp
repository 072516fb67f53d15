#pragma once
// Helpers for the robustness suite: raw frames, raw HTTP over a socket (for
// bodies cpp-httplib's client will not send: truncated, slow, abandoned), the
// one-frame protocol-error body, and the server's resources from /proc.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "framing/cbor.hpp"
#include "framing/frame.hpp"
#include "framing/frame_reader.hpp"
#include "tests/server/test_server.hpp"

namespace hgrpc::server::robustness {

using namespace hgrpc::server::testing;
namespace fr = hgrpc::framing;
using Clock = std::chrono::steady_clock;

// Sanitizer builds hold more memory (shadow, ASan's quarantine of freed
// blocks): memory bounds are multiplied by this. g++ defines __SANITIZE_*__;
// clang-14, which scripts/sanitize uses, only answers __has_feature.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HGRPC_TEST_TSAN 1
#elif __has_feature(address_sanitizer)
#define HGRPC_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(HGRPC_TEST_TSAN)
inline constexpr long kMemoryFactor = 6;
#elif defined(__SANITIZE_ADDRESS__) || defined(HGRPC_TEST_ASAN)
inline constexpr long kMemoryFactor = 4;
#else
inline constexpr long kMemoryFactor = 1;
#endif

inline void frame(Bytes& out, std::uint16_t id, std::uint8_t stream, std::uint8_t sflags,
                  std::uint8_t type, std::uint8_t flags, ByteView payload) {
  fr::FrameHeader h;
  h.request_id = id;
  h.stream_id = stream;
  h.stream_flags = sflags;
  h.type = type;
  h.flags = flags;
  fr::append_frame(out, h, payload);
}

inline constexpr std::uint8_t kRequest = static_cast<std::uint8_t>(fr::FrameType::CommandRequest);
inline constexpr std::uint8_t kData = static_cast<std::uint8_t>(fr::FrameType::CommandData);
inline constexpr std::uint8_t kStreamSettings = static_cast<std::uint8_t>(fr::FrameType::StreamSettings);
inline constexpr std::uint8_t kErrorResponse = static_cast<std::uint8_t>(fr::FrameType::ErrorResponse);

// A delta of one hunk (big-endian start, end, length, data).
inline Bytes delta(std::uint32_t start, std::uint32_t end, std::string_view data,
                   std::optional<std::uint32_t> declared_length = std::nullopt) {
  Bytes out;
  for (std::uint32_t v : {start, end, declared_length.value_or(static_cast<std::uint32_t>(data.size()))})
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
  fr::append(out, fr::as_bytes(data));
  return out;
}

// A body of one good applypatches request; `good_answer()` is its result.
inline Bytes good_body(Call& call) {
  call.add("applypatches", {{"base", bin("hello world")},
                            {"patches", json::array({json::binary(delta(0, 5, "HELLO"))})}});
  return call.body;
}

// The message of a 400 body: exactly one error-response frame on stream 2,
// {type: b'protocol', message: [{msg: b'...'}]}. Empty when the body is not that.
inline std::string protocol_error_message(std::string_view body) {
  fr::FrameReader reader(fr::kMaxPayloadWireLimit);
  reader.feed(fr::as_bytes(body));
  auto f = reader.next();
  if (!f || !*f) return "";
  const auto h = (*f)->header;
  if (h.type != kErrorResponse || h.stream_id != 2 || h.stream_flags != fr::stream_flags::kBegin)
    return "";
  auto values = fr::cbor_decode_all((*f)->payload);
  auto next = reader.next();
  if (!values || values->size() != 1 || !next || *next) return "";
  const json& m = values->at(0);
  if (!m.contains("type") || str(m.at("type")) != "protocol") return "";
  return str(m.at("message").at(0).at("msg"));
}

// The response of one raw HTTP exchange.
struct RawReply {
  int status = 0;       // 0: no status line
  std::string head;     // status line and headers
  std::string body;     // de-chunked
  bool closed = false;  // the server closed the connection
};

// A plain blocking TCP connection to 127.0.0.1:port.
class RawConn {
 public:
  explicit RawConn(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect failed");
  }
  ~RawConn() { close(); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Closes with RST (SO_LINGER 0): an abrupt client.
  void reset() {
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }
  // Shuts both directions (a sender blocked on this socket returns); the fd
  // stays valid until close().
  void shutdown() { ::shutdown(fd_, SHUT_RDWR); }
  // False once the peer is gone.
  bool send(std::string_view s) {
    while (!s.empty()) {
      const auto n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  bool send(ByteView b) { return send(fr::as_chars(b)); }

  // Reads until the peer closes or `bound` passes; returns what arrived.
  std::string read_until_close(std::chrono::milliseconds bound, bool* closed = nullptr) {
    std::string got;
    const auto deadline = Clock::now() + bound;
    bool eof = false;
    while (Clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char buf[65536];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof = true;
        break;
      }
      got.append(buf, static_cast<std::size_t>(n));
    }
    if (closed) *closed = eof;
    return got;
  }

 private:
  int fd_ = -1;
};

// The head of a POST to path: framing media type, with Content-Length or
// chunked transfer encoding when length is nullopt.
inline std::string post_head(const std::string& path, std::optional<std::uint64_t> length,
                             bool close = true) {
  std::string h = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: " + kMedia +
                  "\r\nContent-Type: " + kMedia + "\r\n";
  h += length ? "Content-Length: " + std::to_string(*length) + "\r\n"
              : std::string("Transfer-Encoding: chunked\r\n");
  if (close) h += "Connection: close\r\n";
  return h + "\r\n";
}

inline std::string chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

// Parses one HTTP/1.1 response (Content-Length or chunked body).
inline RawReply parse_reply(const std::string& raw, bool closed) {
  RawReply r;
  r.closed = closed;
  const auto end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || end == std::string::npos) return r;
  r.status = std::stoi(raw.substr(9, 3));
  r.head = raw.substr(0, end);
  std::string rest = raw.substr(end + 4);
  if (r.head.find("Transfer-Encoding: chunked") != std::string::npos) {
    std::size_t pos = 0;
    for (;;) {
      const auto eol = rest.find("\r\n", pos);
      if (eol == std::string::npos) break;
      const auto n = std::stoul(rest.substr(pos, eol - pos), nullptr, 16);
      if (n == 0) break;
      r.body += rest.substr(eol + 2, n);
      pos = eol + 2 + n + 2;
    }
  } else {
    r.body = rest;
  }
  return r;
}

// Resource counts of a process, from /proc.
inline long count_dir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return -1;
  long n = 0;
  while (auto* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n;
}
inline long fd_count(pid_t pid) { return count_dir("/proc/" + std::to_string(pid) + "/fd"); }
inline long thread_count(pid_t pid) { return count_dir("/proc/" + std::to_string(pid) + "/task"); }
inline long rss_kib(const TestServer& s) { return s.status_kib("VmRSS").value_or(-1); }
inline long peak_kib(const TestServer& s) { return s.status_kib("VmHWM").value_or(-1); }

}  // namespace hgrpc::server::robustness
