#pragma once
// cpp-httplib's view of one connection while a worker serves a request on it:
// reads come first from the bytes the connection pool already received (the
// request head, perhaps more), then from the socket; every read and write
// waits at most its timeout. Bytes read ahead stay in the buffer for the next
// request on the connection.
#include <httplib.h>

#include <chrono>
#include <span>
#include <string>

#include "framing/bytes.hpp"

namespace hgrpc::server {

class ConnectionStream final : public httplib::Stream {
 public:
  // `buffer` holds received bytes not yet consumed; it is read from and
  // refilled in place, and keeps what is left when the request is done.
  ConnectionStream(int fd, std::string& buffer, std::string_view peer, int peer_port,
                   std::chrono::milliseconds read_timeout, std::chrono::milliseconds write_timeout);
  ~ConnectionStream() override;

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, std::size_t size) override;
  ssize_t write(const char* ptr, std::size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  // One chunk of a chunked response body ("<hex>\r\n", the pieces, "\r\n")
  // in one gathering send, the pieces read where they lie: cpp-httplib's
  // DataSink::write copies each chunk twice first, which was a third of the
  // CPU of a response from the cache. False when the peer is gone or the
  // write timed out. Only between the head and the last chunk, which
  // cpp-httplib writes (DataSink::done).
  bool write_chunk(std::span<const framing::ByteView> pieces);

  // The stream this thread serves now (set by the connection pool around
  // each request), or nullptr.
  static ConnectionStream* current();
  struct Serving {  // sets current() for a scope
    explicit Serving(ConnectionStream& s);
    ~Serving();
  };

 private:
  int fd_;
  std::string& buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ already handed out
  std::string_view peer_;
  int peer_port_;
  int read_timeout_ms_;
  int write_timeout_ms_;
};

// Waits until fd is readable (events POLLIN) or writable (POLLOUT), at most
// timeout_ms. False on timeout or error.
bool wait_for(int fd, short events, int timeout_ms);

// The numeric address and port of a connected socket's peer ("" and 0 if unknown).
std::pair<std::string, int> peer_of(int fd);

}  // namespace hgrpc::server
