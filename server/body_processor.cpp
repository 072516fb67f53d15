#include "server/body_processor.hpp"

#include <algorithm>
#include <exception>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

namespace hgrpc::server {

using framing::ByteView;
using framing::PlannedFrames;

namespace {

// What a queued request keeps in memory, roughly: its strings and data.
std::uint64_t held_bytes(const framing::json& v) {
  switch (v.type()) {
    case framing::json::value_t::binary: return v.get_binary().size() + 16;
    case framing::json::value_t::string: return v.get_ref<const std::string&>().size() + 16;
    case framing::json::value_t::array:
    case framing::json::value_t::object: {
      std::uint64_t n = 16;
      for (const auto& [key, e] : v.items()) n += key.size() + held_bytes(e);
      return n;
    }
    default: return 16;
  }
}

}  // namespace

BodyProcessor::BodyProcessor(const CommandRegistry& registry, BodyTarget target,
                             BodyOptions options, CompressionPool* pool, OutputMux::Sink sink,
                             CommandObserver observer)
    : registry_(registry),
      target_(std::move(target)),
      options_(std::move(options)),
      observer_(std::move(observer)),
      reader_(options_.max_frame_size),
      reactor_(options_.reactor),
      sink_(std::move(sink)) {
  // One window covers a response's frames waiting in its sink (a batch, and
  // what the write that filled it added beyond it: less than another batch
  // when the handler writes pieces below batch size) and in the mux
  // (rendering, or waiting for the socket).
  const std::uint64_t window = std::max<std::uint64_t>(options_.response_window_bytes, 4 * framing::kMinFrameSize);
  batch_bytes_ = static_cast<std::size_t>(std::clamp<std::uint64_t>(window / 8, 1, 256 * 1024));
  options_.mux.window_bytes = window - 2 * batch_bytes_;
  // Streams are made on first use, i.e. at the first complete request, once
  // the client's protocol settings (and so the output encoding) are known.
  // A plain stream carries a protocol error that is the whole body.
  mux_ = std::make_unique<OutputMux>(
      pool,
      [this](bool plain) {
        return plain ? framing::OutputStream(2, nullptr, options_.reactor.max_frame_size)
                     : reactor_.make_output_stream();
      },
      [this](OutputMux::Pieces pieces) -> framing::Result<void> {
        if (!spooling_) return write_out(pieces);
        for (auto b : pieces)
          if (auto r = spool_->write(b); !r) return r;
        return {};
      },
      options_.mux);
}

BodyProcessor::~BodyProcessor() = default;

bool BodyProcessor::feed(ByteView chunk) {
  if (stopped_) return false;
  reader_.feed(chunk);
  for (;;) {
    auto next = reader_.next();
    if (!next) {
      protocol_error(next.error().message);
      return false;
    }
    if (!*next) return true;
    on_frame(**next);
    if (stopped_) return false;
  }
}

void BodyProcessor::on_frame(const framing::Frame& f) {
  last_request_id_ = f.header.request_id;
  auto action = reactor_.on_frame(f);
  std::visit(
      [&](auto& a) {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, framing::RunCommand>) {
          queue_command(a);
        } else if constexpr (std::is_same_v<A, framing::ProtocolError>) {
          protocol_error(std::move(a.message));
        }
      },
      action);
}

void BodyProcessor::queue_command(framing::RunCommand& cmd) {
  const CommandSpec* spec = registry_.find(cmd.name);
  // Log names come from the registry only, so a peer cannot flood the log.
  tally_.add(spec != nullptr ? std::string_view(cmd.name) : std::string_view("unknown"));
  const bool first = commands_queued_ == 0;
  std::optional<CommandError> refusal;
  if (target_.command != kMultiRequest && cmd.name != target_.command) {
    if (first) {
      reject(400, fmt::format("command in frames ({}) must match the command in the URL ({})",
                              cmd.name, target_.command));
      return;
    }
    refusal = CommandError{"command %s does not match the command in the URL: %s", {cmd.name, target_.command}};
  } else if (spec == nullptr) {
    refusal = CommandError{"wire protocol command not available: %s", {cmd.name}};
  } else if (spec->permission != "pull" && !target_.read_write) {
    if (first) {
      reject(403, fmt::format("insufficient permissions to execute command under ro/: {}", cmd.name));
      return;
    }
    refusal = CommandError{"insufficient permissions to execute command under ro/: %s", {cmd.name}};
  }
  if (refusal) {
    cmd.args = framing::json();
    cmd.data.reset();
  }
  const std::uint64_t held = sizeof(Pending) + held_bytes(cmd.args) + (cmd.data ? cmd.data->size() : 0);
  const auto id = cmd.request_id;
  queue_.push_back(Pending{std::move(cmd), spec, std::move(refusal), std::nullopt,
                           reactor_.respond(id, mux_->next_stream()), held});
  ++commands_queued_;
  queued_bytes_ += held;
  // Too much input waiting: the oldest requests run now, into the spool.
  while (queued_bytes_ > options_.max_queued_bytes && !queue_.empty() && !output_failed_) {
    if (!spool_) spool_ = std::make_unique<ResponseSpool>(options_.spool_memory_bytes);
    spooling_ = true;
    run(queue_.front());
    queued_bytes_ -= queue_.front().held;
    queue_.pop_front();
  }
}

void BodyProcessor::reject(int status, std::string text) {
  stopped_ = true;
  result_.status = status;
  result_.framed = false;
  result_.text = std::move(text);
}

void BodyProcessor::protocol_error(std::string message) {
  if (stopped_) return;
  stopped_ = true;
  result_.protocol_error = true;
  result_.error = message;
  // No request answered: HTTP 400 whose body is this frame alone, on a stream
  // without encoding. Otherwise the frame ends the output (status 200).
  const bool alone = commands_queued_ == 0;
  if (alone) result_.status = 400;
  queue_.push_back(Pending{framing::RunCommand{}, nullptr, std::nullopt, std::move(message),
                           reactor_.respond(last_request_id_, mux_->next_stream(alone))});
}

framing::Result<void> BodyProcessor::write_out(OutputMux::Pieces pieces) {
  // Frames are small (a status map, a value, an eos): one socket write per
  // frame would cost a chunk header and a send() each. Coalesce up to
  // kCoalesceBytes; a large payload goes out as it is (its pieces where they lie).
  std::size_t size = 0;
  for (auto b : pieces) size += b.size();
  if (out_buffer_.size() + size > kCoalesceBytes) {
    if (auto r = flush_out(); !r) return r;
  }
  if (size >= kCoalesceBytes) return sink_(pieces);
  for (auto b : pieces) framing::append(out_buffer_, b);
  return {};
}

framing::Result<void> BodyProcessor::flush_out() {
  if (out_buffer_.empty()) return {};
  const ByteView whole[] = {out_buffer_};
  auto r = sink_(whole);
  out_buffer_.clear();
  return r;
}

bool BodyProcessor::fail_output(const framing::Error& e) {
  if (!output_failed_) output_error_ = e.message;
  output_failed_ = true;
  return false;
}

BodyResult BodyProcessor::finish() {
  if (!stopped_) {
    if (auto r = reader_.finish(); !r) {
      protocol_error(r.error().message);
    } else if (auto e = reactor_.on_input_end()) {
      protocol_error(std::move(e->message));
    }
  }
  if (output_failed_ && result_.framed) {
    // Spooling the output of early requests failed: nothing was sent yet.
    result_.status = 500;
    result_.framed = false;
    result_.text = "internal server error";
    result_.error = output_error_;
  }
  return result_;
}

bool BodyProcessor::drain(PlannedFrames& frames, framing::ResponseEmitter& emitter) {
  std::uint64_t batch = 0;
  for (const auto& f : frames) batch += framing::planned_size(f);
  max_batch_ = std::max(max_batch_, batch);
  on_stream_ += batch;
  if (auto r = mux_->submit(frames); !r) return fail_output(r.error());
  // A large response moves on to the next stream, so that several streams
  // compress it in parallel.
  if (mux_->max_streams() > 1 && on_stream_ >= mux_->split_bytes() && !emitter.finished()) {
    on_stream_ = 0;
    emitter.set_stream(mux_->next_stream(), frames);
    for (const auto& f : frames) on_stream_ += framing::planned_size(f);
    if (auto r = mux_->submit(frames); !r) return fail_output(r.error());
  }
  return true;
}

void BodyProcessor::run(Pending& p) {
  on_stream_ = 0;
  if (p.protocol_error) {
    PlannedFrames frames;
    p.emitter.error_response(framing::ErrorType::Protocol, *p.protocol_error, frames);
    drain(frames, p.emitter);
    return;
  }
  // Every output stream of the body has the negotiated encoding.
  const bool splices = reactor_.output_encoding() == framing::Encoding::Zstd8mbFrames;
  ResponseSink sink(
      p.emitter, [this](PlannedFrames& f, framing::ResponseEmitter& e) { return drain(f, e); },
      batch_bytes_, splices);
  const std::string_view name = p.spec != nullptr ? std::string_view(p.cmd.name) : "unknown";
  RedirectRequest redirect{options_.redirects};
  if (options_.redirects != nullptr && p.spec != nullptr) redirect.target = options_.redirects->choose(p.cmd.redirect);
  const auto observe = [&](bool ok) {
    if (const auto outcome = cache_outcome_name(sink.cache_outcome()); !outcome.empty()) cache_tally_.add(outcome);
    if (const auto outcome = redirect_outcome_name(redirect.outcome); !outcome.empty()) redirect_tally_.add(outcome);
    if (observer_) observer_(name, ok);
  };
  if (p.refusal) {
    sink.fail(*p.refusal);
    observe(false);
    return;
  }
  std::optional<ByteView> data;
  if (p.cmd.data) data = ByteView(*p.cmd.data);
  try {
    auto status = registry_.execute(*p.spec, p.cmd.args, data, options_.limits, sink, options_.cache,
                                    redirect.target != nullptr ? &redirect : nullptr);
    // The request's arguments and data are released before the next runs.
    p.cmd.args = framing::json();
    p.cmd.data.reset();
    if (!sink.ok()) return;  // the output is gone; nobody reads an answer
    if (status) {
      sink.finish();
    } else {
      sink.fail(status.error());
    }
    observe(status.has_value());
  } catch (const std::exception& e) {
    // A server error for this request only; the others go on.
    sink.fail_server(fmt::format("internal error in command {}: {}", p.cmd.name, e.what()));
    observe(false);
  }
}

framing::Result<void> BodyProcessor::write_output() {
  if (spool_) {
    // Output made while the body was read goes first, in order.
    if (auto r = mux_->finish(); !r) return r;
    spooling_ = false;
    static constexpr std::size_t kChunk = 64 * 1024;
    auto buffer = std::make_unique_for_overwrite<std::uint8_t[]>(kChunk);
    for (std::uint64_t offset = 0;;) {
      auto n = spool_->read(offset, buffer.get(), kChunk);
      if (!n) return hgrpc::unexpected<framing::Error>(n.error());
      if (*n == 0) break;
      const ByteView piece[] = {ByteView(buffer.get(), *n)};
      if (auto r = write_out(piece); !r) return r;
      offset += *n;
    }
    spool_->release();
  }
  while (!queue_.empty() && !output_failed_) {
    run(queue_.front());
    queue_.pop_front();
  }
  queue_.clear();
  if (auto r = mux_->finish(); !r) return r;
  return flush_out();
}

}  // namespace hgrpc::server
