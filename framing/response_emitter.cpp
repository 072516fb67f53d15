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

std::string_view emitter_state_name(EmitterState s) {
  switch (s) {
    case EmitterState::Fresh: return "fresh";
    case EmitterState::Values: return "values";
    case EmitterState::IndefiniteBytes: return "indefinite-bytes";
    case EmitterState::DefiniteBytes: return "definite-bytes";
    case EmitterState::PreEncoded: return "pre-encoded";
    case EmitterState::Finished: return "finished";
  }
  return "?";
}

std::string_view emitter_error_name(EmitterError e) {
  switch (e) {
    case EmitterError::AfterEnd: return "after-end";
    case EmitterError::ChunkOutsideBytes: return "chunk-outside-bytes";
    case EmitterError::BytesEndOutsideBytes: return "bytes-end-outside-bytes";
    case EmitterError::ValueInsideBytes: return "value-inside-bytes";
    case EmitterError::BytesBeginInsideBytes: return "bytes-begin-inside-bytes";
    case EmitterError::EndInsideBytes: return "end-inside-bytes";
    case EmitterError::BytesEndOfDefinite: return "bytes-end-of-definite";
    case EmitterError::ChunkExceedsLength: return "chunk-exceeds-length";
    case EmitterError::MixedPreEncoded: return "mixed-pre-encoded";
    case EmitterError::StatusAfterData: return "status-after-data";
  }
  return "?";
}

ResponseEmitter::ResponseEmitter(std::uint16_t request_id, std::uint8_t stream_id,
                                 EmitterOptions options)
    : request_id_(request_id), stream_id_(stream_id), options_(options) {
  options_.max_frame_size = std::max(options_.max_frame_size, kMinFrameSize);
}

EmitterState ResponseEmitter::transition(Event event, const char* call) const {
  using S = EmitterState;
  using E = EmitterError;
  auto misuse = [&](E e) -> S {
    throw EmitterMisuse(e, std::string("ResponseEmitter::") + call + ": " +
                               std::string(emitter_error_name(e)) + " (request " +
                               std::to_string(request_id_) + ", state " +
                               std::string(emitter_state_name(state_)) + ")");
  };
  if (state_ == S::Finished) return misuse(E::AfterEnd);
  const bool in_bytes = state_ == S::IndefiniteBytes || state_ == S::DefiniteBytes;
  if (event == Event::PreEncoded) {
    return state_ == S::Fresh || state_ == S::PreEncoded ? S::PreEncoded : misuse(E::MixedPreEncoded);
  }
  if (state_ == S::PreEncoded && event != Event::End && event != Event::Error) return misuse(E::MixedPreEncoded);
  switch (event) {
    case Event::Value: return in_bytes ? misuse(E::ValueInsideBytes) : S::Values;
    case Event::BytesBegin: return in_bytes ? misuse(E::BytesBeginInsideBytes) : state_;
    case Event::BytesChunk: return in_bytes ? state_ : misuse(E::ChunkOutsideBytes);
    case Event::BytesEnd:
      if (state_ == S::IndefiniteBytes) return S::Values;
      return misuse(state_ == S::DefiniteBytes ? E::BytesEndOfDefinite : E::BytesEndOutsideBytes);
    case Event::PreEncoded: break;  // above
    case Event::End: return in_bytes ? misuse(E::EndInsideBytes) : S::Finished;
    case Event::Error: return S::Finished;
  }
  return state_;
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
  // {b'status': b'ok'}, encoded once: it starts every successful response.
  static const Bytes kStatusOk = [] {
    json status = json::object();
    status["status"] = cbor_bytes("ok");
    return cbor_encode(status);
  }();
  plan(FrameType::CommandResponse, command_response_flags::kContinuation, kStatusOk, true, out);
}

void ResponseEmitter::redirect_status(const json& location, PlannedFrames& out) {
  if (status_sent_ || state_ != EmitterState::Fresh)
    throw EmitterMisuse(EmitterError::StatusAfterData,
                        "redirect_status after the status map (request " + std::to_string(request_id_) + ")");
  status_sent_ = true;
  state_ = EmitterState::Values;
  json status = json::object();
  status["status"] = cbor_bytes("redirect");
  status["location"] = location;
  plan(FrameType::CommandResponse, command_response_flags::kContinuation, cbor_encode(status), true, out);
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
  const auto next = transition(Event::Value, "value");
  ensure_status(out);
  scratch_.clear();
  cbor_encode(v, scratch_);
  push(scratch_, out);
  state_ = next;
}

void ResponseEmitter::encoded_value(ByteView cbor, PlannedFrames& out) {
  const auto next = transition(Event::Value, "encoded_value");
  ensure_status(out);
  push(cbor, out);
  state_ = next;
}

void ResponseEmitter::bytes_begin(PlannedFrames& out) {
  transition(Event::BytesBegin, "bytes_begin");
  ensure_status(out);
  scratch_.clear();
  cbor_append_indefinite_bytes_begin(scratch_);
  push(scratch_, out);
  state_ = EmitterState::IndefiniteBytes;
}

void ResponseEmitter::bytes_begin(std::uint64_t length, PlannedFrames& out) {
  transition(Event::BytesBegin, "bytes_begin");
  ensure_status(out);
  scratch_.clear();
  cbor_append_bytes_head(length, scratch_);
  push(scratch_, out);
  bytes_left_ = length;
  state_ = length == 0 ? EmitterState::Values : EmitterState::DefiniteBytes;
}

void ResponseEmitter::bytes_chunk(ByteView chunk, PlannedFrames& out) {
  transition(Event::BytesChunk, "bytes_chunk");
  if (chunk.empty()) return;  // an empty chunk adds nothing to the string
  if (state_ == EmitterState::DefiniteBytes) {
    if (chunk.size() > bytes_left_) {
      throw EmitterMisuse(EmitterError::ChunkExceedsLength,
                          "ResponseEmitter::bytes_chunk: chunk-exceeds-length (request " +
                              std::to_string(request_id_) + ": " + std::to_string(chunk.size()) +
                              " bytes, " + std::to_string(bytes_left_) + " left)");
    }
    push(chunk, out);
    bytes_left_ -= chunk.size();
    if (bytes_left_ == 0) state_ = EmitterState::Values;
    return;
  }
  scratch_.clear();
  cbor_append_bytes_head(chunk.size(), scratch_);
  push(scratch_, out);
  push(chunk, out);
}

void ResponseEmitter::spliced_chunk(SharedBytes encoded, std::uint64_t decoded_size, PlannedFrames& out) {
  transition(Event::BytesChunk, "spliced_chunk");
  if (state_ == EmitterState::DefiniteBytes) {
    if (decoded_size > bytes_left_) {
      throw EmitterMisuse(EmitterError::ChunkExceedsLength,
                          "ResponseEmitter::spliced_chunk: chunk-exceeds-length (request " +
                              std::to_string(request_id_) + ": " + std::to_string(decoded_size) +
                              " bytes, " + std::to_string(bytes_left_) + " left)");
    }
    bytes_left_ -= decoded_size;
    if (bytes_left_ == 0) state_ = EmitterState::Values;
  } else {
    scratch_.clear();
    cbor_append_bytes_head(decoded_size, scratch_);
    push(scratch_, out);
  }
  PlannedFrame f;
  f.stream_id = stream_id_;
  f.request_id = request_id_;
  f.type = FrameType::CommandResponse;
  f.flags = command_response_flags::kContinuation;
  f.payload = std::exchange(pending_, {});
  f.encode = true;
  f.spliced = std::move(encoded);
  out.push_back(std::move(f));
}

void ResponseEmitter::pre_encoded(SharedBytes piece, PlannedFrames& out) {
  state_ = transition(Event::PreEncoded, "pre_encoded");
  status_sent_ = true;  // the pieces hold it
  if (piece.empty()) return;
  PlannedFrame f;
  f.stream_id = stream_id_;
  f.request_id = request_id_;
  f.type = FrameType::CommandResponse;
  f.flags = command_response_flags::kContinuation;
  f.encode = true;
  f.spliced = std::move(piece);
  out.push_back(std::move(f));
}

void ResponseEmitter::bytes_end(PlannedFrames& out) {
  const auto next = transition(Event::BytesEnd, "bytes_end");
  scratch_.clear();
  cbor_append_break(scratch_);
  push(scratch_, out);
  state_ = next;
}

void ResponseEmitter::end(PlannedFrames& out) {
  const auto next = transition(Event::End, "end");
  ensure_status(out);
  flush(out);
  plan(FrameType::CommandResponse, command_response_flags::kEos, {}, true, out);
  state_ = next;
}

void ResponseEmitter::command_error(std::string_view msg, const std::vector<std::string>& args,
                                    PlannedFrames& out) {
  const auto next = transition(Event::Error, "command_error");
  if (status_sent_) {
    // Data already went out under {status: ok}: an error-response ends it.
    flush(out);
    json m = json::object();
    m["type"] = cbor_bytes(error_type_name(ErrorType::Command));
    m["message"] = json::array({message_atom(msg, args)});
    Bytes payload = cbor_encode(m);
    if (payload.size() > options_.max_frame_size) {
      error_response(ErrorType::Command, msg, out);
      return;
    }
    plan(FrameType::ErrorResponse, 0, std::move(payload), false, out);
    state_ = next;
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
  state_ = next;
}

void ResponseEmitter::error_response(ErrorType type, std::string_view msg, PlannedFrames& out) {
  const auto next = transition(Event::Error, "error_response");
  flush(out);
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
  state_ = next;
}

bool ResponseEmitter::text_output(const json& atoms, PlannedFrames& out) {
  if (!options_.text_output || finished()) return false;
  Bytes payload = cbor_encode(atoms);
  if (payload.size() > options_.max_frame_size) return false;
  plan(FrameType::TextOutput, 0, std::move(payload), false, out);
  return true;
}

bool ResponseEmitter::progress(std::string_view topic, std::int64_t pos, std::uint64_t total,
                               std::string_view label, std::string_view item,
                               PlannedFrames& out) {
  if (!options_.progress || finished()) return false;
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
