#include "server/body_processor.hpp"

#include <exception>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

namespace hgrpc::server {

using framing::ByteView;
using framing::PlannedFrames;

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
  // Streams are made on first use, i.e. after the first command, once the
  // client's protocol settings (and so the output encoding) are known.
  mux_ = std::make_unique<OutputMux>(
      pool, [this] { return reactor_.make_output_stream(); }, sink_, options_.mux);
}

BodyProcessor::~BodyProcessor() = default;

std::uint64_t BodyProcessor::frames_out() const { return mux_->frames_written() + direct_frames_; }
std::uint64_t BodyProcessor::bytes_out() const { return mux_->bytes_written() + direct_bytes_; }

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
          run_command(a);
        } else if constexpr (std::is_same_v<A, framing::ProtocolError>) {
          protocol_error(std::move(a.message));
        }
      },
      action);
}

void BodyProcessor::submit(PlannedFrames frames) {
  if (auto r = mux_->submit(std::move(frames)); !r) server_error(r.error().message);
}

void BodyProcessor::run_command(framing::RunCommand& cmd) {
  const CommandSpec* spec = registry_.find(cmd.name);
  // Log names come from the registry only, so a peer cannot flood the log.
  tally_.add(spec != nullptr ? std::string_view(cmd.name) : std::string_view("unknown"));
  PlannedFrames planned;
  auto emitter = reactor_.make_emitter(cmd.request_id, 0);
  const auto answer_error = [&](std::string_view msg, std::vector<std::string> args) {
    emitter.command_error(msg, args, planned);
    if (observer_) observer_(spec != nullptr ? cmd.name : "unknown", false);
  };

  if (target_.command != kMultiRequest && cmd.name != target_.command) {
    if (!mux_->started()) {
      reject(400, fmt::format("command in frames ({}) must match the command in the URL ({})",
                              cmd.name, target_.command));
      return;
    }
    answer_error("command %s does not match the command in the URL: %s", {cmd.name, target_.command});
  } else if (spec == nullptr) {
    answer_error("wire protocol command not available: %s", {cmd.name});
  } else if (spec->permission != "pull" && !target_.read_write) {
    if (!mux_->started()) {
      reject(403, fmt::format("insufficient permissions to execute command under ro/: {}", cmd.name));
      return;
    }
    answer_error("insufficient permissions to execute command under ro/: %s", {cmd.name});
  } else {
    std::optional<ByteView> data;
    if (cmd.data) data = ByteView(*cmd.data);
    try {
      auto result = registry_.run(*spec, cmd.args, data, options_.limits);
      // Large arguments and values are released as soon as they are used, so
      // a big command holds about one copy of its input and of its output.
      cmd.args = json();
      cmd.data.reset();
      if (result) {
        for (auto& v : *result) {
          emitter.value(v, planned);
          v = json();
        }
        emitter.end(planned);
        if (observer_) observer_(cmd.name, true);
      } else {
        answer_error(result.error().message, result.error().args);
      }
    } catch (const std::exception& e) {
      // A server error for this request only; the others go on.
      planned.clear();
      auto fresh = reactor_.make_emitter(cmd.request_id, 0);
      fresh.error_response(framing::ErrorType::Server,
                           fmt::format("internal error in command {}: {}", cmd.name, e.what()),
                           planned);
      if (observer_) observer_(cmd.name, false);
    }
  }
  // Free the request's data before its output waits in the mux.
  cmd.data.reset();
  submit(std::move(planned));
  reactor_.on_response_done(cmd.request_id);
}

void BodyProcessor::reject(int status, std::string text) {
  stopped_ = true;
  result_.status = status;
  result_.framed = false;
  result_.text = std::move(text);
}

void BodyProcessor::server_error(std::string message) {
  if (stopped_ && !result_.framed) return;
  stopped_ = true;
  result_.status = 500;
  result_.framed = false;
  result_.text = "internal server error";
  result_.error = std::move(message);
}

void BodyProcessor::protocol_error(std::string message) {
  if (stopped_) return;
  stopped_ = true;
  result_.protocol_error = true;
  result_.error = message;
  PlannedFrames planned;
  auto emitter = reactor_.make_emitter(last_request_id_, 2);
  emitter.error_response(framing::ErrorType::Protocol, message, planned);
  if (mux_->started()) {
    // The response already carries output: this frame ends it.
    if (auto r = mux_->submit(std::move(planned)); !r) server_error(r.error().message);
    return;
  }
  // Nothing was produced: HTTP 400 whose body is this frame alone, on a
  // stream without encoding.
  result_.status = 400;
  framing::OutputStream plain(2, nullptr, options_.reactor.max_frame_size);
  framing::Bytes wire;
  for (const auto& f : planned) {
    if (auto r = plain.render(f, wire); !r) {
      server_error(r.error().message);
      return;
    }
  }
  if (auto r = sink_(wire); !r) {
    server_error(r.error().message);
    return;
  }
  direct_frames_ += count_frames(wire);
  direct_bytes_ += wire.size();
}

BodyResult BodyProcessor::finish() {
  if (!stopped_) {
    if (auto r = reader_.finish(); !r) {
      protocol_error(r.error().message);
    } else if (auto e = reactor_.on_input_end()) {
      protocol_error(std::move(e->message));
    }
  }
  if (auto r = mux_->finish(); !r) server_error(r.error().message);
  return result_;
}

}  // namespace hgrpc::server
