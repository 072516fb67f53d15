#include "framing/response_emitter.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace hgrpc::framing {

std::string_view error_type_name(ErrorType t) {
  switch (t) {
    case ErrorType::Protocol: return "protocol";
    case ErrorType::Server: return "server";
    case ErrorType::Command: return "command";
  }
  return "server";
}

json message_atom(std::string_view msg, const std::vector<std::string>& args) {
  json atom = json::object();
  atom["msg"] = cbor_bytes(msg);
  if (!args.empty()) {
    json a = json::array();
    for (const auto& s : args) a.push_back(cbor_bytes(s));
    atom["args"] = std::move(a);
  }
  return atom;
}

ResponseEmitter::ResponseEmitter(std::uint16_t request_id, std::uint8_t stream_id,
                                 EmitterOptions options)
    : request_id_(request_id), stream_id_(stream_id), options_(options) {
  options_.max_frame_size = std::max(options_.max_frame_size, kMinFrameSize);
}

void ResponseEmitter::check_open(const char* what) const {
  if (finished_) throw std::logic_error(std::string("ResponseEmitter::") + what + " after the response ended");
}

void ResponseEmitter::plan(FrameType type, std::uint8_t flags, Bytes payload, bool encode,
                           PlannedFrames& out) {
  PlannedFrame f;
  f.stream_id = stream_id_;
  f.request_id = request_id_;
  f.type = type;
  f.flags = flags;
  f.payload = std::move(payload);
  f.encode = encode;
  out.push_back(std::move(f));
}

void ResponseEmitter::set_stream(std::uint8_t stream_id, PlannedFrames& out) {
  if (stream_id == stream_id_) return;
  flush(out);
  stream_id_ = stream_id;
}

void ResponseEmitter::ensure_status(PlannedFrames& out) {
  if (status_sent_) return;
  status_sent_ = true;
  json status = json::object();
  status["status"] = cbor_bytes("ok");
  plan(FrameType::CommandResponse, command_response_flags::kContinuation, cbor_encode(status),
       true, out);
}

void ResponseEmitter::push(ByteView raw, PlannedFrames& out) {
  const std::size_t max = options_.max_frame_size;
  while (!raw.empty()) {
    const std::size_t take = std::min(max - pending_.size(), raw.size());
    append(pending_, raw.first(take));
    raw = raw.subspan(take);
    if (pending_.size() == max) {
      plan(FrameType::CommandResponse, command_response_flags::kContinuation,
           std::exchange(pending_, {}), true, out);
    }
  }
}

void ResponseEmitter::flush(PlannedFrames& out) {
  if (pending_.empty()) return;
  plan(FrameType::CommandResponse, command_response_flags::kContinuation,
       std::exchange(pending_, {}), true, out);
}

void ResponseEmitter::value(const json& v, PlannedFrames& out) {
  check_open("value");
  if (in_bytes_) throw std::logic_error("ResponseEmitter::value inside an indefinite byte string");
  ensure_status(out);
  Bytes buf;
  cbor_encode(v, buf);
  push(buf, out);
}

void ResponseEmitter::encoded_value(ByteView cbor, PlannedFrames& out) {
  check_open("encoded_value");
  if (in_bytes_) throw std::logic_error("ResponseEmitter::encoded_value inside an indefinite byte string");
  ensure_status(out);
  push(cbor, out);
}

void ResponseEmitter::bytes_begin(PlannedFrames& out) {
  check_open("bytes_begin");
  if (in_bytes_) throw std::logic_error("ResponseEmitter::bytes_begin twice");
  ensure_status(out);
  in_bytes_ = true;
  Bytes buf;
  cbor_append_indefinite_bytes_begin(buf);
  push(buf, out);
}

void ResponseEmitter::bytes_chunk(ByteView chunk, PlannedFrames& out) {
  check_open("bytes_chunk");
  if (!in_bytes_) throw std::logic_error("ResponseEmitter::bytes_chunk outside bytes_begin/bytes_end");
  if (chunk.empty()) return;  // an empty chunk adds nothing to the string
  Bytes buf;
  buf.reserve(chunk.size() + 9);
  cbor_append_bytes_chunk(chunk, buf);
  push(buf, out);
}

void ResponseEmitter::bytes_end(PlannedFrames& out) {
  check_open("bytes_end");
  if (!in_bytes_) throw std::logic_error("ResponseEmitter::bytes_end without bytes_begin");
  in_bytes_ = false;
  Bytes buf;
  cbor_append_break(buf);
  push(buf, out);
}

void ResponseEmitter::end(PlannedFrames& out) {
  check_open("end");
  if (in_bytes_) throw std::logic_error("ResponseEmitter::end inside an indefinite byte string");
  ensure_status(out);
  flush(out);
  plan(FrameType::CommandResponse, command_response_flags::kEos, {}, true, out);
  finished_ = true;
}

void ResponseEmitter::command_error(std::string_view msg, const std::vector<std::string>& args,
                                    PlannedFrames& out) {
  check_open("command_error");
  if (status_sent_) {
    // Data already went out under {status: ok}: an error-response ends it.
    flush(out);
    pending_.clear();
    in_bytes_ = false;
    json m = json::object();
    m["type"] = cbor_bytes(error_type_name(ErrorType::Command));
    m["message"] = json::array({message_atom(msg, args)});
    Bytes payload = cbor_encode(m);
    if (payload.size() > options_.max_frame_size) {
      error_response(ErrorType::Command, msg, out);
      return;
    }
    plan(FrameType::ErrorResponse, 0, std::move(payload), false, out);
    finished_ = true;
    return;
  }
  status_sent_ = true;
  json m = json::object();
  m["status"] = cbor_bytes("error");
  m["error"] = json::object();
  m["error"]["message"] = json::array({message_atom(msg, args)});
  Bytes payload = cbor_encode(m);
  // Usually one frame; a long message continues over several.
  ByteView rest = payload;
  while (rest.size() > options_.max_frame_size) {
    plan(FrameType::CommandResponse, command_response_flags::kContinuation,
         Bytes(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(options_.max_frame_size)),
         false, out);
    rest = rest.subspan(options_.max_frame_size);
  }
  plan(FrameType::CommandResponse, command_response_flags::kEos, Bytes(rest.begin(), rest.end()),
       false, out);
  finished_ = true;
}

void ResponseEmitter::error_response(ErrorType type, std::string_view msg, PlannedFrames& out) {
  check_open("error_response");
  flush(out);
  in_bytes_ = false;
  auto build = [&](std::string_view text) {
    json m = json::object();
    m["type"] = cbor_bytes(error_type_name(type));
    m["message"] = json::array({message_atom(text)});
    return cbor_encode(m);
  };
  Bytes payload = build(msg);
  if (payload.size() > options_.max_frame_size) {
    const std::size_t overhead = payload.size() - msg.size();
    const std::size_t keep =
        options_.max_frame_size > overhead + 8 ? options_.max_frame_size - overhead - 8 : 0;
    payload = build(msg.substr(0, keep));
  }
  plan(FrameType::ErrorResponse, 0, std::move(payload), false, out);
  finished_ = true;
}

bool ResponseEmitter::text_output(const json& atoms, PlannedFrames& out) {
  if (!options_.text_output || finished_) return false;
  Bytes payload = cbor_encode(atoms);
  if (payload.size() > options_.max_frame_size) return false;
  plan(FrameType::TextOutput, 0, std::move(payload), false, out);
  return true;
}

bool ResponseEmitter::progress(std::string_view topic, std::int64_t pos, std::uint64_t total,
                               std::string_view label, std::string_view item,
                               PlannedFrames& out) {
  if (!options_.progress || finished_) return false;
  json m = json::object();
  m["topic"] = std::string(topic);
  m["pos"] = pos;
  m["total"] = total;
  if (!label.empty()) m["label"] = std::string(label);
  if (!item.empty()) m["item"] = std::string(item);
  Bytes payload = cbor_encode(m);
  if (payload.size() > options_.max_frame_size) return false;
  plan(FrameType::Progress, 0, std::move(payload), false, out);
  return true;
}

}  // namespace hgrpc::framing
