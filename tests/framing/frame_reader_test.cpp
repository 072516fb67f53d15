#include <doctest/doctest.h>

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "framing/frame_reader.hpp"
#include "tests/support/test_support.hpp"

using namespace hgrpc::framing;
using namespace std::literals;
using hgrpc::test::test_seed;

namespace {

std::vector<OwnedFrame> random_frames(std::mt19937& rng, int count, std::size_t max_size) {
  std::vector<OwnedFrame> frames;
  for (int i = 0; i < count; ++i) {
    OwnedFrame f;
    f.header.request_id = static_cast<std::uint16_t>(rng());
    f.header.stream_id = static_cast<std::uint8_t>(rng());
    f.header.stream_flags = static_cast<std::uint8_t>(rng());
    f.header.type = static_cast<std::uint8_t>(rng() & 0x0F);
    f.header.flags = static_cast<std::uint8_t>(rng() & 0x0F);
    std::size_t size = rng() % 4 == 0 ? 0 : rng() % (max_size + 1);
    f.payload.resize(size);
    for (auto& b : f.payload) b = static_cast<std::uint8_t>(rng());
    f.header.length = static_cast<std::uint32_t>(size);
    frames.push_back(std::move(f));
  }
  return frames;
}

Bytes body_of(const std::vector<OwnedFrame>& frames) {
  Bytes body;
  for (const auto& f : frames) append_frame(body, f.header, f.payload);
  return body;
}

bool same_header(const FrameHeader& a, const FrameHeader& b) {
  return a.length == b.length && a.request_id == b.request_id && a.stream_id == b.stream_id &&
         a.stream_flags == b.stream_flags && a.type == b.type && a.flags == b.flags;
}

// Feeds body in the given chunk sizes (cycled) and collects owned copies.
std::vector<OwnedFrame> read_all(FrameReader& r, ByteView body, const std::vector<std::size_t>& sizes) {
  std::vector<OwnedFrame> got;
  std::size_t pos = 0, i = 0;
  while (pos < body.size()) {
    std::size_t n = std::min(body.size() - pos, sizes[i++ % sizes.size()]);
    // A fresh copy per chunk: views must not depend on earlier chunks.
    Bytes chunk(body.begin() + static_cast<std::ptrdiff_t>(pos),
                body.begin() + static_cast<std::ptrdiff_t>(pos + n));
    r.feed(chunk);
    for (;;) {
      auto f = r.next();
      REQUIRE_MESSAGE(f, (f ? "" : f.error().message));
      if (!*f) break;
      got.push_back(OwnedFrame{(*f)->header, Bytes((*f)->payload.begin(), (*f)->payload.end())});
    }
    pos += n;
  }
  return got;
}

void check_frames(const std::vector<OwnedFrame>& got, const std::vector<OwnedFrame>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(same_header(got[i].header, want[i].header));
    CHECK(got[i].payload == want[i].payload);
  }
}

std::string error_of(const Result<void>& r) { return r ? std::string("(no error)") : r.error().message; }

}  // namespace

TEST_CASE("frame reader: every chunking yields the same frames") {
  const unsigned seed = test_seed();
  INFO("seed = " << seed);
  std::mt19937 rng(seed);
  const auto frames = random_frames(rng, 60, 3000);
  const Bytes body = body_of(frames);

  std::vector<std::vector<std::size_t>> chunkings = {{body.size()}, {1}, {7}, {8}, {9}, {4096}};
  std::vector<std::size_t> random_sizes;
  for (int i = 0; i < 500; ++i) random_sizes.push_back(rng() % 5000);
  random_sizes.push_back(1);  // never all zero
  chunkings.push_back(random_sizes);
  for (const auto& sizes : chunkings) {
    CAPTURE(sizes.front());
    FrameReader r;
    check_frames(read_all(r, body, sizes), frames);
    CHECK(r.at_frame_boundary());
    CHECK(r.finish());
    CHECK(r.frames_read() == frames.size());
    CHECK(r.bytes_read() == body.size());
    CHECK(r.bytes_fed() == body.size());
    CHECK(r.last_frame_offset() == body.size() - kFrameHeaderSize - frames.back().payload.size());
  }
}

TEST_CASE("frame reader: frames whole in a chunk are views into it, straddling ones are not") {
  Bytes body;
  append_frame(body, FrameHeader{0, 1, 1, 1, 1, 1}, as_bytes("first"sv));
  append_frame(body, FrameHeader{0, 1, 1, 0, 2, 0}, as_bytes("second payload"sv));
  FrameReader r;
  r.feed(ByteView(body).first(30));  // first frame (13 bytes) whole, second split
  auto a = r.next();
  REQUIRE(a);
  REQUIRE(*a);
  CHECK((*a)->payload.data() == body.data() + 8);
  CHECK(as_chars((*a)->payload) == "first");
  CHECK(r.last_frame_offset() == 0);
  auto none = r.next();
  REQUIRE(none);
  CHECK_FALSE(*none);
  CHECK_FALSE(r.at_frame_boundary());
  r.feed(ByteView(body).subspan(30));
  auto b = r.next();
  REQUIRE(b);
  REQUIRE(*b);
  CHECK(as_chars((*b)->payload) == "second payload");
  CHECK((*b)->header.type == 2);
  CHECK(r.last_frame_offset() == 13);
  const std::uint8_t* p = (*b)->payload.data();
  CHECK((p < body.data() || p >= body.data() + body.size()));
  CHECK(r.at_frame_boundary());
}

TEST_CASE("frame reader: a buffered frame's view survives next() until the next feed") {
  Bytes body;
  append_frame(body, FrameHeader{0, 1, 1, 0, 3, 0}, as_bytes("aaaaaaaaaa"sv));
  append_frame(body, FrameHeader{0, 1, 1, 0, 3, 0}, as_bytes("bbbbbbbbbb"sv));
  FrameReader r;
  r.feed(ByteView(body).first(4));
  REQUIRE(r.next());
  // Completes frame 0 (from the buffer) and starts frame 1 (stays in the chunk).
  r.feed(ByteView(body).subspan(4, 20));
  auto a = r.next();
  REQUIRE(a);
  REQUIRE(*a);
  auto none = r.next();
  REQUIRE(none);
  CHECK_FALSE(*none);
  CHECK(as_chars((*a)->payload) == "aaaaaaaaaa");
}

TEST_CASE("frame reader: an oversized declared length fails from the header alone") {
  Bytes body;
  for (int i = 0; i < 3; ++i) append_frame(body, FrameHeader{0, 1, 1, 0, 1, 1}, as_bytes("abc"sv));
  const std::uint8_t header[] = {0x70, 0x11, 0x01, 0x01, 0x00, 0x01, 0x00, 0x21};  // 70000
  append(body, header);
  const std::string expected =
      "frame 3 at body offset 33 (request 1, stream 1): payload length 70000 exceeds the "
      "maximum frame size 65535";
  for (std::size_t first : {body.size(), std::size_t{36}}) {  // whole, or split in the header
    CAPTURE(first);
    FrameReader r;
    r.feed(ByteView(body).first(first));
    Result<std::optional<Frame>> f;
    int frames = 0;
    while ((f = r.next()) && *f) ++frames;
    if (f) {  // header incomplete: the rest arrives
      r.feed(ByteView(body).subspan(first));
      f = r.next();
    }
    CHECK(frames == 3);
    REQUIRE_FALSE(f);
    CHECK(f.error().message == expected);
    // The reader stays failed; feeding more is ignored.
    r.feed(as_bytes("more"sv));
    auto again = r.next();
    REQUIRE_FALSE(again);
    CHECK(again.error().message == expected);
    CHECK(error_of(r.finish()) == expected);
  }
}

TEST_CASE("frame reader: the maximum payload is configurable") {
  Bytes ok, big;
  append_frame(ok, FrameHeader{}, Bytes(10, 'x'));
  append_frame(big, FrameHeader{}, Bytes(11, 'x'));
  FrameReader r(10);
  CHECK(r.max_payload() == 10);
  r.feed(ok);
  auto f = r.next();
  REQUIRE(f);
  CHECK((*f)->payload.size() == 10);
  REQUIRE(r.next());
  r.feed(big);
  auto g = r.next();
  REQUIRE_FALSE(g);
  CHECK(g.error().message ==
        "frame 1 at body offset 18 (request 0, stream 0): payload length 11 exceeds the maximum "
        "frame size 10");
}

TEST_CASE("frame reader: finish() reports a body that ends inside a frame") {
  Bytes body;
  for (int i = 0; i < 4; ++i) append_frame(body, FrameHeader{0, 1, 1, 0, 1, 1}, as_bytes("xy"sv));
  Bytes last;
  append_frame(last, FrameHeader{0, 1, 1, 0, 3, 2}, Bytes(200, 'p'));
  append(body, last);
  const std::size_t start = 40;  // 4 frames of 10 bytes
  struct Case {
    std::size_t cut;
    std::string message;
  };
  for (const Case& c : {Case{start + 3, "body ends inside frame 4 at body offset 40: 3 of 8 header bytes"},
                        Case{start + 18, "body ends inside frame 4 at body offset 40: 10 of 200 payload bytes"},
                        Case{start, "(no error)"}}) {
    for (std::size_t piece : {std::size_t{1}, std::size_t{1000}}) {
      CAPTURE(c.cut);
      CAPTURE(piece);
      FrameReader r;
      read_all(r, ByteView(body).first(c.cut), {piece});
      CHECK(r.frames_read() == 4);
      CHECK(r.at_frame_boundary() == (c.cut == start));
      CHECK(error_of(r.finish()) == c.message);
    }
  }
}

TEST_CASE("frame reader: feeding before next() answered nullopt is a programmer error") {
  Bytes body;
  append_frame(body, FrameHeader{}, as_bytes("a"sv));
  FrameReader r;
  r.feed(body);
  CHECK_THROWS_AS(r.feed(body), std::logic_error);
  CHECK(error_of(r.finish()) ==
        "FrameReader::finish: frames left unread (call next() until it returns nullopt)");
  REQUIRE(r.next());
  REQUIRE(r.next());
  r.feed({});
  r.feed({});  // empty chunks add nothing to drain
  CHECK(r.finish());
}
