#include "bench/load_workloads.hpp"

#include <algorithm>
#include <random>
#include <set>
#include <stdexcept>
#include <variant>

#include "framing/frame_reader.hpp"

namespace hgrpc::bench {

using namespace hgrpc::framing;

namespace {

void put32(Bytes& out, std::uint64_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// One hunk of Mercurial's binary delta format: replace [start, end) by data.
void append_hunk(Bytes& delta, std::uint64_t start, std::uint64_t end, ByteView data) {
  put32(delta, start);
  put32(delta, end);
  put32(delta, data.size());
  append(delta, data);
}

// A bench input that cannot be built is a programmer error.
std::uint16_t call(ClientReactor& c, std::string_view name, const json& args, Bytes& out,
                   std::optional<ByteView> data = std::nullopt) {
  auto id = c.call_command(name, args, out, data);
  if (!id) throw std::logic_error("cannot build the request: " + id.error().message);
  return *id;
}

// The small command: patchedsize of a `size`-byte text under one 11-byte hunk.
json small_args(std::uint64_t size) {
  Bytes delta;
  append_hunk(delta, 10, 20, as_bytes("hello world"));
  return {{"size", size}, {"patches", json::array({json::binary(delta)})}};
}
std::uint64_t small_answer(std::uint64_t size) { return size - 10 + 11; }

}  // namespace

Workload patchedsize_workload(const ClientReactorOptions& options) {
  Workload w{std::string(kApiPrefix) + "patchedsize", {}, {}};
  ClientReactor c(options);
  call(c, "patchedsize", small_args(1000), w.body);
  w.expected.push_back(small_answer(1000));
  return w;
}

Workload multirequest_workload(const ClientReactorOptions& options, std::size_t commands) {
  Workload w{std::string(kApiPrefix) + "multirequest", {}, {}};
  ClientReactor c(options);
  for (std::size_t i = 0; i < commands; ++i) {
    call(c, "patchedsize", small_args(1000 + i), w.body);
    w.expected.push_back(small_answer(1000 + i));
  }
  return w;
}

// kBase bytes of text lines; 100 deltas of 5 same-length 16-byte replacements at
// sorted distinct places (fixed seed), so every delta's offsets are simple.
Workload applypatches_workload(const ClientReactorOptions& options, std::size_t kBase) {
  constexpr std::size_t kDeltas = 100, kHunks = 5, kHunk = 16;
  std::mt19937_64 rng(8);
  Bytes text;
  while (text.size() < kBase) {
    const std::size_t line = 20 + rng() % 60;
    for (std::size_t i = 0; i + 1 < line; ++i) text.push_back(static_cast<std::uint8_t>('a' + rng() % 26));
    text.push_back('\n');
  }
  text.resize(kBase);
  const Bytes base = text;
  json patches = json::array();
  for (std::size_t d = 0; d < kDeltas; ++d) {
    std::set<std::size_t> slots;
    while (slots.size() < kHunks) slots.insert(rng() % (kBase / kHunk));
    Bytes delta;
    for (std::size_t slot : slots) {
      Bytes data(kHunk);
      for (auto& b : data) b = static_cast<std::uint8_t>('A' + rng() % 26);
      append_hunk(delta, slot * kHunk, slot * kHunk + kHunk, data);
      std::copy(data.begin(), data.end(), text.begin() + static_cast<std::ptrdiff_t>(slot * kHunk));
    }
    patches.push_back(json::binary(std::move(delta)));
  }
  Workload w{std::string(kApiPrefix) + "applypatches", {}, {}};
  ClientReactor c(options);
  call(c, "applypatches", {{"base", json::binary(base)}, {"patches", std::move(patches)}}, w.body);
  w.expected.push_back(json::binary(std::move(text)));
  return w;
}

Result<void> check_response(const Workload& w, ByteView response, const ClientReactorOptions& options) {
  ClientReactor c(options);
  for (std::size_t i = 0; i < w.expected.size(); ++i) c.expect_request(static_cast<std::uint16_t>(1 + 2 * i));
  std::vector<std::vector<json>> values(w.expected.size());
  std::size_t ended = 0;
  auto index = [&](std::uint16_t id) { return static_cast<std::size_t>((id - 1) / 2); };
  auto on_events = [&](std::vector<ClientEvent> events) -> Result<void> {
    for (auto& ev : events) {
      if (auto* v = std::get_if<ResponseValue>(&ev)) {
        values.at(index(v->request_id)).push_back(std::move(v->value));
      } else if (std::get_if<ResponseEnd>(&ev)) {
        ++ended;
      } else if (auto* e = std::get_if<CommandError>(&ev)) {
        return fail("request " + std::to_string(e->request_id) + ": command error " + e->error.dump());
      } else if (auto* r = std::get_if<ErrorResponse>(&ev)) {
        return fail("request " + std::to_string(r->request_id) + ": " + r->type + " error " + r->message.dump());
      } else if (auto* p = std::get_if<ProtocolError>(&ev)) {
        return fail("protocol error: " + p->message);
      }
    }
    return {};
  };
  FrameReader reader(kMaxPayloadWireLimit);
  reader.feed(response);
  while (true) {
    auto f = reader.next();
    if (!f) return fail(f.error().message);
    if (!*f) break;
    if (auto r = on_events(c.on_frame(**f)); !r) return r;
  }
  if (auto r = reader.finish(); !r) return r;
  if (auto e = c.on_input_end()) return fail("protocol error at end: " + e->message);
  if (ended != w.expected.size())
    return fail(std::to_string(ended) + " of " + std::to_string(w.expected.size()) + " requests completed");
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i].size() != 1 || values[i][0] != w.expected[i])
      return fail("request " + std::to_string(1 + 2 * i) + ": unexpected value(s)");
  }
  return {};
}

BigBody::BigBody(const ClientReactorOptions& options, std::uint64_t total_bytes, std::size_t request_bytes)
    : reactor_(options), total_(total_bytes) {
  // One hunk inserting request_bytes - 12 bytes into an empty text.
  delta_data_ = request_bytes - 12;
  Bytes filler(delta_data_);
  for (std::size_t i = 0; i < filler.size(); ++i) filler[i] = static_cast<std::uint8_t>("0123456789abcdef\n"[i % 17]);
  Bytes delta;
  append_hunk(delta, 0, 0, filler);
  cbor_encode(json::binary(std::move(delta)), data_);
}

bool BigBody::next(Bytes& out) {
  if (produced_ >= total_) return false;
  const std::size_t before = out.size();
  call(reactor_, "patchedsize", json{{"size", 0}}, out, ByteView(data_));
  produced_ += out.size() - before;
  ++requests_;
  return true;
}

Workload BigBody::expectation() const {
  Workload w{std::string(kApiPrefix) + "multirequest", {}, {}};
  w.expected.assign(requests_, json(delta_data_));
  return w;
}

}  // namespace hgrpc::bench
