// ConnectionStream::write_chunk: one chunk of a chunked body from many
// pieces, over a socket with a small send buffer (partial sends, more
// pieces than one sendmsg takes).
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <string>
#include <thread>

#include "server/connection_stream.hpp"

using hgrpc::server::ConnectionStream;
namespace fr = hgrpc::framing;

TEST_CASE("connection stream: a chunk of more pieces than IOV_MAX arrives whole and in order") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  const int small = 4096;
  ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);

  std::string text;
  std::vector<std::size_t> sizes;
  for (std::size_t i = 0; i < IOV_MAX + 300; ++i) {
    sizes.push_back(i % 7 == 0 ? 0 : 1 + i % 97);  // empty pieces too
    text.append(sizes.back(), static_cast<char>('a' + i % 26));
  }
  std::vector<fr::ByteView> pieces;
  std::size_t at = 0;
  for (auto n : sizes) {
    pieces.push_back(fr::as_bytes(std::string_view(text).substr(at, n)));
    at += n;
  }

  std::string received;
  std::thread reader([&] {
    char buf[1000];
    for (ssize_t n; (n = ::read(fds[1], buf, sizeof buf)) > 0;) received.append(buf, static_cast<std::size_t>(n));
  });
  bool ok = false;
  {
    std::string buffer;
    ConnectionStream s(fds[0], buffer, "test", 0, std::chrono::seconds(10), std::chrono::seconds(10));
    ok = s.write_chunk(pieces);
    CHECK(s.write_chunk({}));  // nothing: no chunk (an empty one would end the body)
    ::shutdown(fds[0], SHUT_WR);
  }
  reader.join();
  ::close(fds[0]);
  ::close(fds[1]);
  CHECK(ok);
  char head[32];
  std::snprintf(head, sizeof head, "%zx\r\n", text.size());
  CHECK(received == head + text + "\r\n");
}
