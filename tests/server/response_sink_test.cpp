// ResponseSink through BodyProcessor: backpressure (a response larger than
// the window streams with bounded memory, and the producer waits for the
// consumer), and handlers failing half-way.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "framing/client_reactor.hpp"
#include "framing/frame_reader.hpp"
#include "server/body_processor.hpp"
#include "server/compression_pool.hpp"

using namespace hgrpc::server;
namespace fr = hgrpc::framing;
using fr::Bytes;
using fr::json;

namespace {

// A byte channel of fixed capacity between the server (writer) and a reader
// thread. The writer blocks while it is full, as a socket does; the reader
// starts only once the writer has blocked, so the test needs no timing.
class Channel {
 public:
  explicit Channel(std::size_t capacity) : capacity_(capacity) {}

  fr::Result<void> write(fr::ByteView b) {
    std::unique_lock lock(m_);
    for (std::uint8_t c : b) {
      if (q_.size() == capacity_) {
        ++writer_waits_;
        cv_.notify_all();
        cv_.wait(lock, [&] { return q_.size() < capacity_; });
      }
      q_.push_back(c);
      ++written_;
    }
    cv_.notify_all();
    return {};
  }
  void close() {
    std::lock_guard lock(m_);
    closed_ = true;
    cv_.notify_all();
  }
  // Reader thread: waits for the first blocked write, then reads everything.
  Bytes read_all() {
    Bytes out;
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return writer_waits_ > 0 || closed_; });
    for (;;) {
      cv_.wait(lock, [&] { return !q_.empty() || closed_; });
      if (q_.empty() && closed_) return out;
      out.insert(out.end(), q_.begin(), q_.end());
      consumed_ += q_.size();
      q_.clear();
      cv_.notify_all();
    }
  }
  std::uint64_t consumed() {
    std::lock_guard lock(m_);
    return consumed_;
  }
  std::uint64_t writer_waits() {
    std::lock_guard lock(m_);
    return writer_waits_;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::uint8_t> q_;
  std::size_t capacity_;
  std::uint64_t written_ = 0;
  std::uint64_t consumed_ = 0;
  std::uint64_t writer_waits_ = 0;
  bool closed_ = false;
};

// Incompressible bytes (splitmix64 of the index), so encoded and raw sizes match.
std::uint8_t pattern(std::uint64_t i) {
  std::uint64_t z = (i / 8 + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<std::uint8_t>(z >> (8 * (i % 8)));
}

// "stream": one definite byte string of `size` bytes in 10 KiB pieces. It
// records how far it ran ahead of what the reader consumed.
struct Producer {
  Channel* channel = nullptr;
  std::uint64_t max_ahead = 0;
};

CommandRegistry registry_with(Producer& prod) {
  CommandRegistry r = CommandRegistry::standard();
  r.add(CommandSpec{
      .name = "stream",
      .permission = "pull",
      .args = {ArgSpec{.name = "size", .type = ArgType::Int, .required = true}},
      .handler = [&prod](const CommandInput& in, ResponseSink& out) -> CommandStatus {
        const auto size = in.args["size"].get<std::uint64_t>();
        Bytes piece(10 * 1024);
        std::uint64_t done = 0;
        out.bytes_begin(size);
        while (done < size) {
          const auto n = std::min<std::uint64_t>(piece.size(), size - done);
          for (std::uint64_t i = 0; i < n; ++i) piece[i] = pattern(done + i);
          if (!out.bytes_chunk(fr::ByteView(piece).first(n))) return {};
          done += n;
          if (prod.channel) prod.max_ahead = std::max(prod.max_ahead, done - std::min(done, prod.channel->consumed()));
        }
        return {};
      }});
  r.add(CommandSpec{
      .name = "halfway",
      .permission = "pull",
      .args = {ArgSpec{.name = "how", .type = ArgType::Bytes, .required = true}},
      .handler = [](const CommandInput& in, ResponseSink& out) -> CommandStatus {
        const auto how = in.args["how"].get_binary();
        const std::string mode(how.begin(), how.end());
        out.value(json(1));
        out.bytes_begin(100);
        out.bytes_chunk(fr::to_bytes("part"));
        if (mode == "error") return hgrpc::unexpected<CommandError>(CommandError{"lost revision %s", {"5"}});
        if (mode == "throw") throw std::runtime_error("disk gone");
        out.bytes_chunk(fr::to_bytes(std::string(97, 'x')));  // 4 + 97 > 100: a handler bug
        return {};
      }});
  return r;
}

struct Events {
  std::map<std::uint16_t, std::vector<json>> values;
  std::map<std::uint16_t, std::string> errors;  // request -> "type: msg"
  std::map<std::uint16_t, bool> complete;
};

Events decode(fr::ClientReactor& c, const Bytes& out) {
  Events ev;
  fr::FrameReader reader(0xFFFFFF);
  reader.feed(out);
  for (;;) {
    auto f = reader.next();
    REQUIRE(f);
    if (!*f) break;
    for (auto& e : c.on_frame(**f)) {
      if (auto* v = std::get_if<fr::ResponseValue>(&e)) ev.values[v->request_id].push_back(v->value);
      if (auto* d = std::get_if<fr::ResponseEnd>(&e)) ev.complete[d->request_id] = true;
      if (auto* x = std::get_if<fr::ErrorResponse>(&e)) {
        ev.errors[x->request_id] =
            x->type + ": " + std::string(fr::as_chars(x->message.at(0).at("msg").get_binary()));
      }
      if (auto* x = std::get_if<fr::CommandError>(&e)) {
        ev.errors[x->request_id] = "status error: " + std::string(fr::as_chars(x->error.at("message").at(0).at("msg").get_binary()));
      }
    }
  }
  return ev;
}

}  // namespace

TEST_CASE("backpressure: a response 32x the window streams with bounded memory") {
  constexpr std::uint64_t kWindow = 256 * 1024;
  constexpr std::uint64_t kSize = 32 * kWindow;  // 8 MiB
  constexpr std::size_t kChannel = 64 * 1024;
  for (const bool pooled : {false, true}) {
    CAPTURE(pooled);
    CompressionPool pool(2);
    Producer prod;
    const auto reg = registry_with(prod);
    fr::ClientReactorOptions co;
    co.content_encodings = {pooled ? fr::Encoding::Zstd8mb : fr::Encoding::Identity};
    fr::ClientReactor c(co);
    Bytes body;
    auto id = c.call_command("stream", {{"size", kSize}}, body);
    REQUIRE(id);

    BodyOptions o;
    o.response_window_bytes = kWindow;
    Channel ch(kChannel);
    prod.channel = &ch;
    BodyProcessor p(reg, {false, "multirequest"}, o, pooled ? &pool : nullptr,
                    [&](OutputMux::Pieces pieces) -> fr::Result<void> {
                      for (auto b : pieces)
                        if (auto r = ch.write(b); !r) return r;
                      return {};
                    });
    p.feed(body);
    auto result = p.finish();
    REQUIRE(result.status == 200);
    Bytes wire;
    std::thread reader([&] { wire = ch.read_all(); });
    REQUIRE(p.write_output());
    ch.close();
    reader.join();

    // The producer was paused: the channel filled and the server waited for
    // the reader before the response was done...
    CHECK(ch.writer_waits() > 0);
    // ... and never held more than the window (plus what the channel and the
    // compressor hold) ahead of what the reader took.
    CHECK(p.max_buffered_bytes() <= kWindow);
    CHECK(prod.max_ahead <= kWindow + kChannel + 64 * 1024);
    CHECK(p.mux().max_pending_bytes() > 0);

    auto ev = decode(c, wire);
    REQUIRE(ev.values[*id].size() == 1);
    const auto& got = ev.values[*id][0].get_binary();
    REQUIRE(got.size() == kSize);
    bool same = true;
    for (std::uint64_t i = 0; i < kSize && same; ++i) same = got[i] == pattern(i);
    CHECK(same);
    CHECK(p.frames_out() > kSize / fr::kDefaultEmitFrameSize);
  }
}

TEST_CASE("a handler failing half-way ends its request with an error frame, the others go on") {
  Producer prod;
  const auto reg = registry_with(prod);
  fr::ClientReactor c;
  Bytes body;
  auto before = c.call_command("patchedsize", {{"size", 3}, {"patches", json::array()}}, body);
  auto err = c.call_command("halfway", {{"how", fr::cbor_bytes("error")}}, body);
  auto thrown = c.call_command("halfway", {{"how", fr::cbor_bytes("throw")}}, body);
  auto misuse = c.call_command("halfway", {{"how", fr::cbor_bytes("overrun")}}, body);
  auto after = c.call_command("patchedsize", {{"size", 4}, {"patches", json::array()}}, body);
  Bytes wire;
  BodyProcessor p(reg, {false, "multirequest"}, {}, nullptr, hgrpc::server::OutputMux::appending_to(wire));
  p.feed(body);
  REQUIRE(p.finish().status == 200);
  REQUIRE(p.write_output());
  auto ev = decode(c, wire);
  CHECK(ev.values[*before] == std::vector<json>{3});
  CHECK(ev.values[*after] == std::vector<json>{4});
  // A command error follows what the handler wrote; a server error (an
  // exception, maybe thrown inside the emitter) replaces what had not gone
  // out yet, so the peer never decodes a half-written value.
  CHECK(ev.values[*err] == std::vector<json>{1});
  CHECK(ev.values[*thrown].empty());
  CHECK(ev.values[*misuse].empty());
  for (auto id : {*err, *thrown, *misuse}) {
    CAPTURE(id);
    CHECK_FALSE(ev.complete[id]);
  }
  CHECK(ev.errors[*err] == "command: lost revision %s");
  CHECK(ev.errors[*thrown] == "server: internal error in command halfway: disk gone");
  CHECK(ev.errors[*misuse].starts_with("server: internal error in command halfway: "
                                       "ResponseEmitter::bytes_chunk: chunk-exceeds-length"));
  CHECK(ev.errors.size() == 3);
}
