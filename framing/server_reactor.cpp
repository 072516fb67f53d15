#include "framing/server_reactor.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace hgrpc::framing {

namespace {

std::string id(std::uint16_t request_id) { return std::to_string(request_id); }

constexpr std::uint8_t type_of(FrameType t) { return static_cast<std::uint8_t>(t); }

// A list of byte (or text) strings from a settings map.
Result<std::vector<std::string>> string_list(const json& v, std::string_view key) {
  if (!v.is_array()) return fail("sender protocol settings: " + std::string(key) + " is not a list");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const json& e = v[i];
    if (e.is_binary()) {
      out.emplace_back(e.get_binary().begin(), e.get_binary().end());
    } else if (e.is_string()) {
      out.push_back(e.get<std::string>());
    } else {
      return fail("sender protocol settings: " + std::string(key) + " item " + std::to_string(i) +
                  " is not a byte string");
    }
  }
  return out;
}

}  // namespace

std::string_view server_state_name(ServerState s) {
  switch (s) {
    case ServerState::Initial: return "initial";
    case ServerState::ProtocolSettingsReceiving: return "protocol-settings-receiving";
    case ServerState::Idle: return "idle";
    case ServerState::CommandReceiving: return "command-receiving";
    case ServerState::Errored: return "errored";
  }
  return "errored";
}

ServerReactor::ServerReactor(ServerReactorOptions options)
    : options_(std::move(options)), streams_(true, options_.input_streams) {}

ServerAction ServerReactor::error(std::string message) {
  state_ = ServerState::Errored;
  return ProtocolError{std::move(message)};
}

ServerAction ServerReactor::error_at(const Frame& f, std::string_view what) {
  return error(describe_frame(index_, f.header) + ": " + std::string(what));
}

ServerAction ServerReactor::on_frame(const Frame& frame) {
  ServerAction a = handle(frame);
  ++index_;
  return a;
}

ServerAction ServerReactor::handle(const Frame& raw) {
  const FrameHeader& h = raw.header;
  if (state_ == ServerState::Errored) {
    return error_at(raw, "already errored after an earlier protocol error");
  }
  if (!is_known_frame_type(h.type)) return error_at(raw, "unknown frame type " + hex_byte(h.type));
  if (const std::uint8_t bad = h.flags & ~defined_flags(h.type)) {
    return error_at(raw, "undefined flags " + hex_byte(bad) + " for " +
                             std::string(frame_type_name(h.type)));
  }
  switch (static_cast<FrameType>(h.type)) {
    case FrameType::CommandResponse:
    case FrameType::ErrorResponse:
    case FrameType::TextOutput:
    case FrameType::Progress:
      return error_at(raw, std::string(frame_type_name(h.type)) + " frames are only sent by servers");
    case FrameType::StreamSettings:
      if (state_ == ServerState::ProtocolSettingsReceiving) {
        return error_at(raw, "stream-settings frame inside the sender protocol settings");
      }
      if (state_ == ServerState::Initial) state_ = ServerState::Idle;
      break;
    default:
      break;
  }

  auto accepted = streams_.accept(index_, raw);
  if (!accepted) return error(std::move(accepted.error().message));
  if (!*accepted) return WantFrame{};  // stream settings consumed
  const Frame& f = **accepted;

  switch (state_) {
    case ServerState::Initial: return on_initial(f);
    case ServerState::ProtocolSettingsReceiving: return on_protocol_settings(f);
    case ServerState::Idle: return on_idle(f);
    case ServerState::CommandReceiving: return on_command_receiving(f);
    case ServerState::Errored: break;
  }
  return error_at(f, "already errored after an earlier protocol error");
}

ServerAction ServerReactor::on_initial(const Frame& f) {
  if (f.header.type == type_of(FrameType::SenderProtocolSettings)) {
    state_ = ServerState::ProtocolSettingsReceiving;
    return on_protocol_settings(f);
  }
  state_ = ServerState::Idle;
  return on_idle(f);
}

ServerAction ServerReactor::on_protocol_settings(const Frame& f) {
  if (f.header.type != type_of(FrameType::SenderProtocolSettings)) {
    return error_at(f, "expected a sender-protocol-settings continuation frame");
  }
  const bool cont = f.header.flags & settings_flags::kContinuation;
  const bool eos = f.header.flags & settings_flags::kEos;
  if (cont && eos) return error_at(f, "sender-protocol-settings frame has both continuation and eos flags");
  if (!cont && !eos) return error_at(f, "sender-protocol-settings frame has neither continuation nor eos flag");
  if (protocol_settings_.size() + f.payload.size() > options_.max_protocol_settings_bytes) {
    return error_at(f, "sender protocol settings exceed " +
                           std::to_string(options_.max_protocol_settings_bytes) + " bytes");
  }
  append(protocol_settings_, f.payload);
  if (cont) return WantFrame{};
  auto r = apply_protocol_settings();
  protocol_settings_ = Bytes{};
  if (!r) return error_at(f, r.error().message);
  state_ = ServerState::Idle;
  return WantFrame{};
}

Result<void> ServerReactor::apply_protocol_settings() {
  auto values = cbor_decode_all(protocol_settings_, options_.cbor);
  if (!values) return fail("sender protocol settings are not valid CBOR: " + values.error().message);
  if (values->size() != 1) {
    return fail("sender protocol settings hold " + std::to_string(values->size()) +
                " CBOR values; expected one map");
  }
  const json& m = values->front();
  if (!m.is_object()) return fail("sender protocol settings are not a CBOR map");
  if (auto it = m.find("contentencodings"); it != m.end()) {
    auto list = string_list(*it, "contentencodings");
    if (!list) return hgrpc::unexpected<Error>(list.error());
    settings_.content_encodings = std::move(*list);
  }
  if (auto it = m.find("hgrpc-accept-frames"); it != m.end()) {
    auto list = string_list(*it, "hgrpc-accept-frames");
    if (!list) return hgrpc::unexpected<Error>(list.error());
    for (const auto& name : *list) {  // unknown names: later extensions, ignored
      if (name == "text-output") settings_.accept_text_output = true;
      if (name == "progress") settings_.accept_progress = true;
    }
  }
  return {};
}

ServerAction ServerReactor::on_idle(const Frame& f) {
  switch (static_cast<FrameType>(f.header.type)) {
    case FrameType::CommandRequest:
      if (f.header.flags & command_request_flags::kNew) return on_command_request_new(f);
      return on_command_receiving(f);  // names the precise continuation error
    case FrameType::CommandData:
      return on_command_receiving(f);
    case FrameType::SenderProtocolSettings:
      return error_at(f, "sender-protocol-settings is only allowed as the first frame(s) of the body");
    default:
      return error_at(f, "unexpected frame type");
  }
}

ServerAction ServerReactor::on_command_request_new(const Frame& f) {
  const std::uint8_t flags = f.header.flags;
  const std::uint16_t rid = f.header.request_id;
  if (flags & command_request_flags::kContinuation) {
    return error_at(f, "command-request frame has both new and continuation flags");
  }
  if (receiving_.count(rid)) {
    return error_at(f, "new request " + id(rid) + " while request " + id(rid) +
                           " is still being received");
  }
  if (active_.count(rid)) {
    return error_at(f, "new request " + id(rid) + " while request " + id(rid) +
                           " is still active (its response is not done)");
  }
  if (receiving_.size() >= options_.max_receiving_requests) {
    return error_at(f, "more than " + std::to_string(options_.max_receiving_requests) +
                           " requests being received at once");
  }
  Receiving entry;
  entry.request_done = !(flags & command_request_flags::kMore);
  entry.expecting_data = flags & command_request_flags::kHaveData;
  append(entry.payload, f.payload);
  if (auto r = check_size(f, entry); !r) return error_at(f, r.error().message);
  receiving_.emplace(rid, std::move(entry));
  auto& e = receiving_[rid];
  if (e.request_done && !e.expecting_data) return dispatch(f);
  state_ = ServerState::CommandReceiving;
  return WantFrame{};
}

Result<void> ServerReactor::check_size(const Frame& f, const Receiving& entry) {
  const std::size_t total = entry.payload.size() + (entry.data ? entry.data->size() : 0);
  if (total > options_.max_request_bytes) {
    return fail("request " + id(f.header.request_id) + " exceeds the limit of " +
                std::to_string(options_.max_request_bytes) + " bytes (request payload + data)");
  }
  return {};
}

ServerAction ServerReactor::on_command_receiving(const Frame& f) {
  const std::uint8_t flags = f.header.flags;
  const std::uint16_t rid = f.header.request_id;
  const bool is_request = f.header.type == type_of(FrameType::CommandRequest);
  if (is_request) {
    if (flags & command_request_flags::kNew) return on_command_request_new(f);
    if (!(flags & command_request_flags::kContinuation)) {
      return error_at(f, "command-request frame has neither new nor continuation flag");
    }
  } else if (f.header.type != type_of(FrameType::CommandData)) {
    if (f.header.type == type_of(FrameType::SenderProtocolSettings)) {
      return error_at(f, "sender-protocol-settings is only allowed as the first frame(s) of the body");
    }
    return error_at(f, "unexpected frame type");
  }
  const char* what = is_request ? "command-request continuation" : "command-data";
  auto it = receiving_.find(rid);
  if (it == receiving_.end()) {
    if (active_.count(rid)) {
      return error_at(f, std::string(what) + " for request " + id(rid) +
                             ", which was already dispatched");
    }
    return error_at(f, std::string(what) + " for request " + id(rid) +
                           ", which is not being received");
  }
  Receiving& entry = it->second;
  if (!is_request) return on_command_data(f, entry);

  if (entry.request_done) {
    return error_at(f, "command-request continuation for request " + id(rid) +
                           " after its last command-request frame");
  }
  const bool have_data = flags & command_request_flags::kHaveData;
  if (have_data != entry.expecting_data) {
    return error_at(f, std::string("have-data flag ") + (have_data ? "set" : "not set") +
                           " but it was " + (entry.expecting_data ? "set" : "not set") +
                           " on the first frame of request " + id(rid));
  }
  append(entry.payload, f.payload);
  if (auto r = check_size(f, entry); !r) return error_at(f, r.error().message);
  if (!(flags & command_request_flags::kMore)) entry.request_done = true;
  if (entry.request_done && !entry.expecting_data) return dispatch(f);
  return WantFrame{};
}

ServerAction ServerReactor::on_command_data(const Frame& f, Receiving& entry) {
  const std::uint16_t rid = f.header.request_id;
  if (!entry.expecting_data) {
    return error_at(f, "command-data for request " + id(rid) + ", which did not announce have-data");
  }
  if (!entry.request_done) {
    return error_at(f, "command-data for request " + id(rid) +
                           " before its command-request frames were complete");
  }
  const bool cont = f.header.flags & command_data_flags::kContinuation;
  const bool eos = f.header.flags & command_data_flags::kEos;
  if (cont && eos) return error_at(f, "command-data frame has both continuation and eos flags");
  if (!cont && !eos) return error_at(f, "command-data frame has neither continuation nor eos flag");
  if (!entry.data) entry.data.emplace();
  append(*entry.data, f.payload);
  if (auto r = check_size(f, entry); !r) return error_at(f, r.error().message);
  if (eos) return dispatch(f);
  return WantFrame{};
}

void ServerReactor::settle_state() {
  if (state_ != ServerState::Errored) {
    state_ = receiving_.empty() ? ServerState::Idle : ServerState::CommandReceiving;
  }
}

ServerAction ServerReactor::dispatch(const Frame& f) {
  const std::uint16_t rid = f.header.request_id;
  auto node = receiving_.extract(rid);
  Receiving& entry = node.mapped();
  settle_state();
  // Errors name the frame that completed the request.
  auto bad = [&](const std::string& what) { return error_at(f, "request " + id(rid) + ": " + what); };

  auto values = cbor_decode_all(entry.payload, options_.cbor);
  if (!values) return bad("payload is not valid CBOR: " + values.error().message);
  if (values->size() != 1) {
    return bad("payload holds " + std::to_string(values->size()) + " CBOR values; expected one map");
  }
  json& m = values->front();
  if (!m.is_object()) return bad("payload is not a CBOR map");
  RunCommand run;
  run.request_id = rid;
  auto name = m.find("name");
  if (name == m.end()) return bad("payload has no name");
  if (name->is_binary()) {
    run.name.assign(name->get_binary().begin(), name->get_binary().end());
  } else if (name->is_string()) {
    run.name = name->get<std::string>();
  } else {
    return bad("name is not a byte or text string");
  }
  if (auto args = m.find("args"); args != m.end()) {
    if (!args->is_object()) return bad("args is not a map");
    run.args = std::move(*args);
  }
  if (auto redirect = m.find("redirect"); redirect != m.end()) run.redirect = std::move(*redirect);
  run.data = std::move(entry.data);
  if (entry.expecting_data && !run.data) run.data.emplace();
  active_.insert(rid);
  return run;
}

std::optional<ProtocolError> ServerReactor::on_input_end() {
  std::string message;
  if (state_ == ServerState::Errored) return std::nullopt;
  if (state_ == ServerState::ProtocolSettingsReceiving) {
    message = "body ended inside the sender protocol settings";
  } else if (!receiving_.empty()) {
    message = "body ended while request " + id(receiving_.begin()->first) +
              " was still being received";
  } else if (auto s = streams_.stream_with_pending_settings()) {
    message = "body ended inside the stream settings of stream " + std::to_string(*s);
  } else {
    return std::nullopt;
  }
  state_ = ServerState::Errored;
  return ProtocolError{std::move(message)};
}

Encoding ServerReactor::output_encoding() const {
  for (Encoding e : options_.encoding_preference) {
    const auto name = encoding_name(e);
    if (std::find(settings_.content_encodings.begin(), settings_.content_encodings.end(), name) !=
        settings_.content_encodings.end()) {
      return e;
    }
  }
  return Encoding::Identity;
}

OutputStream ServerReactor::make_output_stream() {
  const std::uint8_t sid = next_output_stream_;
  if (sid == 0) throw std::logic_error("ServerReactor: all 127 server stream ids are used");
  next_output_stream_ = static_cast<std::uint8_t>(next_output_stream_ + 2);
  return OutputStream(sid, make_encoder(output_encoding(), options_.encoder), options_.max_frame_size);
}

EmitterOptions ServerReactor::emitter_options() const {
  EmitterOptions o;
  o.max_frame_size = options_.max_frame_size;
  o.text_output = settings_.accept_text_output;
  o.progress = settings_.accept_progress;
  return o;
}

ResponseEmitter ServerReactor::make_emitter(std::uint16_t request_id, std::uint8_t stream_id) const {
  return ResponseEmitter(request_id, stream_id, emitter_options());
}

void ServerReactor::on_response_done(std::uint16_t request_id) { active_.erase(request_id); }

ResponseEmitter ServerReactor::respond(std::uint16_t request_id, std::uint8_t stream_id) {
  on_response_done(request_id);
  return make_emitter(request_id, stream_id);
}

}  // namespace hgrpc::framing
