// Hostile HTTP around the frames: slow clients, bodies over the limit with and
// without Content-Length. Raw sockets, so the client does exactly what the
// test says.
#include <doctest/doctest.h>

#include <atomic>

#include "tests/robustness/robust_support.hpp"

using namespace hgrpc::server::robustness;
using namespace std::chrono_literals;

namespace {

void still_serving(TestServer& server) {
  Call call;
  const Bytes body = good_body(call);
  auto c = server.client();
  auto r = post(c, kApi + "/ro/multirequest", body);
  REQUIRE(r.status == 200);
  Decoded d = decode(call.reactor, fr::as_bytes(r.body));
  REQUIRE(d.values[call.ids[0]].size() == 1);
  CHECK(str(d.values[call.ids[0]][0]) == "HELLO world");
  CHECK(rss_kib(server) < 160 * 1024 * kMemoryFactor);
}

}  // namespace

TEST_CASE("abuse: a client that stops sending is cut off after --read-timeout") {
  TestServer server({"--read-timeout", "2"});
  Call call;
  const Bytes body = good_body(call);
  RawConn conn(server.port());
  REQUIRE(conn.send(post_head(kApi + "/ro/multirequest", body.size())));
  REQUIRE(conn.send(ByteView(body).first(10)));  // then silence
  const auto start = Clock::now();
  bool closed = false;
  const RawReply r = parse_reply(conn.read_until_close(10s, &closed), closed);
  const auto waited = Clock::now() - start;
  CHECK(closed);
  CHECK(waited >= 1900ms);
  CHECK(waited < 6s);
  // Nobody reads an answer to a broken body; hgrpcd says so and closes.
  CHECK(r.status == 400);
  CHECK(r.body == "incomplete request body\n");
  still_serving(server);
}

TEST_CASE("abuse: a client sending one byte per second is bounded by the read timeout per read") {
  // The read timeout bounds each wait for bytes, not the whole body: a byte
  // every second keeps a 2 s timeout from firing. What bounds the body is
  // --read-timeout per byte; this test pins that behaviour down (so a change
  // is deliberate) and checks the slow client holds one worker, not the server.
  TestServer server({"--read-timeout", "2", "--threads", "2"});
  Call call;
  const Bytes body = good_body(call);
  RawConn slow(server.port());
  REQUIRE(slow.send(post_head(kApi + "/ro/multirequest", body.size())));
  for (int i = 0; i < 4; ++i) {
    REQUIRE(slow.send(ByteView(body).subspan(static_cast<std::size_t>(i), 1)));
    std::this_thread::sleep_for(1s);
  }
  still_serving(server);  // the other worker answers meanwhile
  // Stalling now: cut within the read timeout.
  const auto start = Clock::now();
  bool closed = false;
  const RawReply r = parse_reply(slow.read_until_close(10s, &closed), closed);
  CHECK(closed);
  CHECK(Clock::now() - start < 6s);
  CHECK(r.status == 400);
}

TEST_CASE("abuse: a slow request head is cut off after --read-timeout") {
  TestServer server({"--read-timeout", "2"});
  RawConn conn(server.port());
  REQUIRE(conn.send(std::string_view("POST /api/exp-http-v2-0003/ro/multi")));
  const auto start = Clock::now();
  bool closed = false;
  const std::string got = conn.read_until_close(10s, &closed);
  CHECK(closed);
  CHECK(Clock::now() - start < 6s);
  CHECK(got == "");
  still_serving(server);
}

TEST_CASE("abuse: a body over --max-body-bytes with Content-Length is 413 before reading") {
  TestServer server({"--max-body-bytes", "1MiB"});
  RawConn conn(server.port());
  REQUIRE(conn.send(post_head(kApi + "/ro/multirequest", (1u << 20) + 1)));
  bool closed = false;
  const RawReply r = parse_reply(conn.read_until_close(10s, &closed), closed);
  CHECK(r.status == 413);
  CHECK(r.body == "request body of 1048577 bytes exceeds the limit of 1048576 bytes\n");
  CHECK(r.head.find("Connection: close") != std::string::npos);
  CHECK(closed);
  still_serving(server);
}

TEST_CASE("abuse: a chunked body over --max-body-bytes stops being read at the limit: 413") {
  TestServer server({"--max-body-bytes", "1MiB"});
  // 32 MiB: more than the socket buffers hold, so a server that stopped
  // reading stops the sender. (Bytes past a protocol error are read and
  // dropped, so their content does not matter: all count against the limit.)
  const Bytes body(32u << 20, 'x');
  RawConn conn(server.port());
  REQUIRE(conn.send(post_head(kApi + "/ro/multirequest", std::nullopt)));
  // The server stops reading after 1 MiB; the sender notices (or fills the
  // socket buffers) and stops too.
  std::atomic<std::size_t> sent{0};
  std::thread sender([&] {
    for (std::size_t pos = 0; pos < body.size(); pos += 16384) {
      const auto n = std::min<std::size_t>(16384, body.size() - pos);
      if (!conn.send(chunk(fr::as_chars(ByteView(body).subspan(pos, n))))) return;
      sent += n;
    }
    conn.send(std::string_view("0\r\n\r\n"));
  });
  bool closed = false;
  const RawReply r = parse_reply(conn.read_until_close(20s, &closed), closed);
  CHECK(r.status == 413);
  CHECK(r.body == "request body exceeds the limit of 1048576 bytes\n");
  CHECK(r.head.find("Connection: close") != std::string::npos);
  CHECK(closed);
  conn.shutdown();  // unblocks the sender if it is still sending
  sender.join();
  CHECK(sent.load() < body.size());
  still_serving(server);
}
