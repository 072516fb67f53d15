#include "server/connection_stream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace hgrpc::server {

namespace {

// Below this a read is served through the buffer (cpp-httplib reads heads one
// byte at a time); a larger read goes straight into the caller's memory.
constexpr std::size_t kReadAhead = 16 * 1024;

std::pair<std::string, int> address_of(const sockaddr_storage& a) {
  char text[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(a);
    ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    return {text, ntohs(v4.sin_port)};
  }
  if (a.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(a);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    return {text, ntohs(v6.sin6_port)};
  }
  return {"", 0};
}

thread_local ConnectionStream* tl_current = nullptr;

}  // namespace

ConnectionStream* ConnectionStream::current() { return tl_current; }
ConnectionStream::Serving::Serving(ConnectionStream& s) { tl_current = &s; }
ConnectionStream::Serving::~Serving() { tl_current = nullptr; }

bool ConnectionStream::write_chunk(std::span<const framing::ByteView> pieces) {
  std::size_t size = 0;
  for (auto p : pieces) size += p.size();
  if (size == 0) return true;  // an empty chunk would end the body
  char head[24];
  const auto h = fmt::format_to_n(head, sizeof head, "{:x}\r\n", size);
  static const char kTail[] = "\r\n";
  std::vector<iovec> parts;
  parts.reserve(pieces.size() + 2);
  parts.push_back({head, h.size});
  for (auto p : pieces)
    if (!p.empty()) parts.push_back({const_cast<std::uint8_t*>(p.data()), p.size()});
  parts.push_back({const_cast<char*>(kTail), 2});
  const std::size_t count = parts.size();
  std::size_t first = 0;
  while (first < count) {
    msghdr m{};
    m.msg_iov = parts.data() + first;
    m.msg_iovlen = std::min<std::size_t>(count - first, IOV_MAX);
    const auto n = ::sendmsg(fd_, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd_, POLLOUT, write_timeout_ms_)) return false;
      continue;
    }
    if (n < 0) return false;
    auto sent = static_cast<std::size_t>(n);
    while (first < count && sent >= parts[first].iov_len) sent -= parts[first++].iov_len;
    if (first < count) {
      parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + sent;
      parts[first].iov_len -= sent;
    }
  }
  return true;
}

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
  }
}

std::pair<std::string, int> peer_of(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return {"", 0};
  return address_of(a);
}

ConnectionStream::ConnectionStream(int fd, std::string& buffer, std::string_view peer,
                                   int peer_port, std::chrono::milliseconds read_timeout,
                                   std::chrono::milliseconds write_timeout)
    : fd_(fd),
      buffer_(buffer),
      peer_(peer),
      peer_port_(peer_port),
      read_timeout_ms_(static_cast<int>(read_timeout.count())),
      write_timeout_ms_(static_cast<int>(write_timeout.count())) {}

ConnectionStream::~ConnectionStream() { buffer_.erase(0, consumed_); }

bool ConnectionStream::is_readable() const {
  return consumed_ < buffer_.size() || wait_for(fd_, POLLIN, read_timeout_ms_);
}

bool ConnectionStream::is_writable() const { return wait_for(fd_, POLLOUT, write_timeout_ms_); }

ssize_t ConnectionStream::read(char* ptr, std::size_t size) {
  if (consumed_ == buffer_.size() && size < kReadAhead) {
    buffer_.clear();
    consumed_ = 0;
    if (!wait_for(fd_, POLLIN, read_timeout_ms_)) return -1;
    buffer_.resize(kReadAhead);
    const auto n = ::recv(fd_, buffer_.data(), kReadAhead, 0);
    buffer_.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    if (n <= 0) return n;
  }
  if (consumed_ < buffer_.size()) {
    const std::size_t n = std::min(size, buffer_.size() - consumed_);
    std::memcpy(ptr, buffer_.data() + consumed_, n);
    consumed_ += n;
    return static_cast<ssize_t>(n);
  }
  if (!wait_for(fd_, POLLIN, read_timeout_ms_)) return -1;
  return ::recv(fd_, ptr, size, 0);
}

ssize_t ConnectionStream::write(const char* ptr, std::size_t size) {
  if (!wait_for(fd_, POLLOUT, write_timeout_ms_)) return -1;
  for (;;) {
    const auto n = ::send(fd_, ptr, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_for(fd_, POLLOUT, write_timeout_ms_)) return -1;
      continue;
    }
    return n;
  }
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  ip = std::string(peer_);
  port = peer_port_;
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) return;
  std::tie(ip, port) = address_of(a);
}

}  // namespace hgrpc::server
