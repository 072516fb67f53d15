#include "framing/server_reactor.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace hgrpc::framing {

namespace {

std::string id(std::uint16_t request_id) { return std::to_string(request_id); }

// A list of byte (or text) strings from a settings map.
Result<std::vector<std::string>> string_list(const json& v, std::string_view key) {
  if (!v.is_array()) return fail("sender protocol settings: " + std::string(key) + " is not a list");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto s = bytes_or_text(v[i]);
    if (!s) {
      return fail("sender protocol settings: " + std::string(key) + " item " + std::to_string(i) +
                  " is not a byte string");
    }
    out.push_back(std::move(*s));
  }
  return out;
}

// What the reactor does with a frame in a state: one cell of the table.
enum class Step : std::uint8_t {
  Fail,          // illegal: the cell's error
  Settings,      // a sender-protocol-settings frame
  Skip,          // stream-settings: InputStreams consumes it
  New,           // a new command request
  Continue,      // a command-request continuation
  BadFlags,      // command-request with both or neither of new / continuation
  Data,          // command data
};
struct Cell {
  Step step;
  ServerError error = ServerError::None;
};

constexpr Cell F(ServerError e) { return {Step::Fail, e}; }
constexpr Cell S(Step s) { return {s}; }

constexpr std::size_t kStates = 5;
constexpr std::size_t kEvents = 6;
using E = ServerError;
// Rows: ServerState; columns: ServerEvent (protocol-settings, stream-settings,
// request-new, request-continuation, request-bad-flags, command-data).
constexpr Cell kTransitions[kStates][kEvents] = {
    /* initial */ {S(Step::Settings), S(Step::Skip), S(Step::New), F(E::RequestNotReceiving),
                   S(Step::BadFlags), F(E::RequestNotReceiving)},
    /* settings-receiving */
    {S(Step::Settings), F(E::StreamSettingsInProtocolSettings), F(E::ExpectedProtocolSettings),
     F(E::ExpectedProtocolSettings), F(E::ExpectedProtocolSettings), F(E::ExpectedProtocolSettings)},
    /* idle */ {F(E::ProtocolSettingsNotFirst), S(Step::Skip), S(Step::New), F(E::RequestNotReceiving),
                S(Step::BadFlags), F(E::RequestNotReceiving)},
    /* command-receiving */
    {F(E::ProtocolSettingsNotFirst), S(Step::Skip), S(Step::New), S(Step::Continue), S(Step::BadFlags),
     S(Step::Data)},
    /* errored */
    {F(E::AlreadyErrored), F(E::AlreadyErrored), F(E::AlreadyErrored), F(E::AlreadyErrored),
     F(E::AlreadyErrored), F(E::AlreadyErrored)},
};

constexpr Cell cell(ServerState s, ServerEvent e) {
  return kTransitions[static_cast<std::size_t>(s)][static_cast<std::size_t>(e)];
}

// The event of a frame that passed the header checks (so its type is one a
// client sends, or stream-settings).
ServerEvent event_of(const FrameHeader& h) {
  switch (static_cast<FrameType>(h.type)) {
    case FrameType::SenderProtocolSettings: return ServerEvent::ProtocolSettings;
    case FrameType::StreamSettings: return ServerEvent::StreamSettings;
    case FrameType::CommandData: return ServerEvent::CommandData;
    default: break;
  }
  const bool is_new = h.flags & command_request_flags::kNew;
  const bool cont = h.flags & command_request_flags::kContinuation;
  if (is_new == cont) return ServerEvent::RequestBadFlags;
  return is_new ? ServerEvent::RequestNew : ServerEvent::RequestContinuation;
}

// Fixed texts of the errors a table cell names.
std::string_view cell_message(ServerError e) {
  switch (e) {
    case E::AlreadyErrored: return "already errored after an earlier protocol error";
    case E::StreamSettingsInProtocolSettings: return "stream-settings frame inside the sender protocol settings";
    case E::ExpectedProtocolSettings: return "expected a sender-protocol-settings continuation frame";
    case E::ProtocolSettingsNotFirst:
      return "sender-protocol-settings is only allowed as the first frame(s) of the body";
    default: return "";
  }
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

std::string_view server_event_name(ServerEvent e) {
  switch (e) {
    case ServerEvent::ProtocolSettings: return "protocol-settings";
    case ServerEvent::StreamSettings: return "stream-settings";
    case ServerEvent::RequestNew: return "request-new";
    case ServerEvent::RequestContinuation: return "request-continuation";
    case ServerEvent::RequestBadFlags: return "request-bad-flags";
    case ServerEvent::CommandData: return "command-data";
  }
  return "command-data";
}

std::string_view server_error_name(ServerError e) {
  switch (e) {
    case E::None: return "";
    case E::AlreadyErrored: return "already-errored";
    case E::StreamSettingsInProtocolSettings: return "stream-settings-in-protocol-settings";
    case E::ExpectedProtocolSettings: return "expected-protocol-settings";
    case E::ProtocolSettingsNotFirst: return "protocol-settings-not-first";
    case E::ProtocolSettingsFlags: return "protocol-settings-flags";
    case E::ProtocolSettingsTooLarge: return "protocol-settings-too-large";
    case E::ProtocolSettingsInvalid: return "protocol-settings-invalid";
    case E::RequestFlags: return "request-flags";
    case E::RequestIdInUse: return "request-id-in-use";
    case E::TooManyRequests: return "too-many-requests";
    case E::RequestNotReceiving: return "request-not-receiving";
    case E::RequestAfterLastFrame: return "request-after-last-frame";
    case E::HaveDataMismatch: return "have-data-mismatch";
    case E::RequestTooLarge: return "request-too-large";
    case E::DataNotAnnounced: return "data-not-announced";
    case E::DataBeforeRequestEnd: return "data-before-request-end";
    case E::DataFlags: return "data-flags";
    case E::RequestPayloadInvalid: return "request-payload-invalid";
    case E::InputEndInProtocolSettings: return "input-end-in-protocol-settings";
    case E::InputEndInRequest: return "input-end-in-request";
    case E::InputEndInStreamSettings: return "input-end-in-stream-settings";
  }
  return "";
}

ServerReactor::ServerReactor(ServerReactorOptions options)
    : options_(std::move(options)), streams_(true, options_.input_streams) {}

ServerAction ServerReactor::error(std::string_view name, std::string message) {
  state_ = ServerState::Errored;
  return ProtocolError{std::move(message), name};
}

ServerAction ServerReactor::error_at(const Frame& f, ServerError e, std::string_view what) {
  return error(server_error_name(e), describe_frame(index_, f.header) + ": " + std::string(what));
}

ServerAction ServerReactor::on_frame(const Frame& frame) {
  ServerAction a = handle(frame);
  ++index_;
  return a;
}

ServerAction ServerReactor::handle(const Frame& raw) {
  if (state_ == ServerState::Errored) {
    return error_at(raw, E::AlreadyErrored, cell_message(E::AlreadyErrored));
  }
  if (auto bad = check_header(raw.header, Sender::Client)) {
    return error(header_error_name(bad->error), describe_frame(index_, raw.header) + ": " + bad->detail);
  }
  const ServerEvent event = event_of(raw.header);
  Cell c = cell(state_, event);
  // A stream-settings frame meets the table before InputStreams consumes it.
  if (event == ServerEvent::StreamSettings) {
    if (c.step == Step::Fail) return error_at(raw, c.error, cell_message(c.error));
    if (state_ == ServerState::Initial) state_ = ServerState::Idle;
  }

  auto accepted = streams_.accept(index_, raw);
  if (!accepted) return error(accepted.error().name, std::move(accepted.error().message));
  if (!*accepted) return WantFrame{};  // stream settings consumed
  const Frame& f = **accepted;

  if (state_ == ServerState::Initial && event != ServerEvent::ProtocolSettings) {
    state_ = ServerState::Idle;
    c = cell(state_, event);
  }
  switch (c.step) {
    case Step::Fail: break;
    case Step::Settings: return on_protocol_settings(f);
    case Step::Skip: return WantFrame{};
    case Step::New: return on_request_new(f);
    case Step::Continue: return on_request_continuation(f);
    case Step::BadFlags: return on_bad_request_flags(f);
    case Step::Data: return on_command_data(f);
  }
  if (c.error == E::RequestNotReceiving) {
    ServerAction failure;
    find_receiving(f, event == ServerEvent::CommandData ? "command-data" : "command-request continuation",
                   failure);
    return failure;
  }
  return error_at(f, c.error, cell_message(c.error));
}

ServerAction ServerReactor::on_protocol_settings(const Frame& f) {
  state_ = ServerState::ProtocolSettingsReceiving;
  const bool cont = f.header.flags & settings_flags::kContinuation;
  const bool eos = f.header.flags & settings_flags::kEos;
  if (cont && eos) {
    return error_at(f, E::ProtocolSettingsFlags, "sender-protocol-settings frame has both continuation and eos flags");
  }
  if (!cont && !eos) {
    return error_at(f, E::ProtocolSettingsFlags,
                    "sender-protocol-settings frame has neither continuation nor eos flag");
  }
  if (protocol_settings_.size() + f.payload.size() > options_.max_protocol_settings_bytes) {
    return error_at(f, E::ProtocolSettingsTooLarge,
                    "sender protocol settings exceed " + std::to_string(options_.max_protocol_settings_bytes) +
                        " bytes");
  }
  append(protocol_settings_, f.payload);
  if (cont) return WantFrame{};
  auto r = apply_protocol_settings();
  protocol_settings_ = Bytes{};
  if (!r) return error_at(f, E::ProtocolSettingsInvalid, r.error().message);
  state_ = ServerState::Idle;
  return WantFrame{};
}

Result<void> ServerReactor::apply_protocol_settings() {
  auto value = cbor_decode_one(protocol_settings_, {"sender protocol settings", true, "one map"}, options_.cbor);
  if (!value) return hgrpc::unexpected<Error>(value.error());
  const json& m = *value;
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

ServerAction ServerReactor::on_bad_request_flags(const Frame& f) {
  if (f.header.flags & command_request_flags::kNew) {
    return error_at(f, E::RequestFlags, "command-request frame has both new and continuation flags");
  }
  return error_at(f, E::RequestFlags, "command-request frame has neither new nor continuation flag");
}

bool ServerReactor::too_large(const Receiving& entry) const {
  return entry.payload.size() + (entry.data ? entry.data->size() : 0) > options_.max_request_bytes;
}

ServerAction ServerReactor::on_request_new(const Frame& f) {
  const std::uint8_t flags = f.header.flags;
  const std::uint16_t rid = f.header.request_id;
  if (receiving_.count(rid)) {
    return error_at(f, E::RequestIdInUse,
                    "new request " + id(rid) + " while request " + id(rid) + " is still being received");
  }
  if (active_.count(rid)) {
    return error_at(f, E::RequestIdInUse,
                    "new request " + id(rid) + " while request " + id(rid) +
                        " is still active (its response is not done)");
  }
  if (receiving_.size() >= options_.max_receiving_requests) {
    return error_at(f, E::TooManyRequests,
                    "more than " + std::to_string(options_.max_receiving_requests) +
                        " requests being received at once");
  }
  Receiving entry;
  entry.request_done = !(flags & command_request_flags::kMore);
  entry.expecting_data = flags & command_request_flags::kHaveData;
  append(entry.payload, f.payload);
  if (too_large(entry)) {
    return error_at(f, E::RequestTooLarge,
                    "request " + id(rid) + " exceeds the limit of " + std::to_string(options_.max_request_bytes) +
                        " bytes (request payload + data)");
  }
  const bool complete = entry.request_done && !entry.expecting_data;
  receiving_.emplace(rid, std::move(entry));
  if (complete) return completed(f);
  state_ = ServerState::CommandReceiving;
  return WantFrame{};
}

ServerReactor::Receiving* ServerReactor::find_receiving(const Frame& f, std::string_view what,
                                                        ServerAction& failure) {
  const std::uint16_t rid = f.header.request_id;
  auto it = receiving_.find(rid);
  if (it != receiving_.end()) return &it->second;
  failure = error_at(f, E::RequestNotReceiving,
                     std::string(what) + " for request " + id(rid) +
                         (active_.count(rid) ? ", which was already dispatched" : ", which is not being received"));
  return nullptr;
}

ServerAction ServerReactor::on_request_continuation(const Frame& f) {
  const std::uint8_t flags = f.header.flags;
  const std::uint16_t rid = f.header.request_id;
  ServerAction failure;
  Receiving* entry = find_receiving(f, "command-request continuation", failure);
  if (!entry) return failure;
  if (entry->request_done) {
    return error_at(f, E::RequestAfterLastFrame,
                    "command-request continuation for request " + id(rid) + " after its last command-request frame");
  }
  const bool have_data = flags & command_request_flags::kHaveData;
  if (have_data != entry->expecting_data) {
    return error_at(f, E::HaveDataMismatch,
                    std::string("have-data flag ") + (have_data ? "set" : "not set") + " but it was " +
                        (entry->expecting_data ? "set" : "not set") + " on the first frame of request " + id(rid));
  }
  append(entry->payload, f.payload);
  if (too_large(*entry)) {
    return error_at(f, E::RequestTooLarge,
                    "request " + id(rid) + " exceeds the limit of " + std::to_string(options_.max_request_bytes) +
                        " bytes (request payload + data)");
  }
  if (!(flags & command_request_flags::kMore)) entry->request_done = true;
  if (entry->request_done && !entry->expecting_data) return completed(f);
  return WantFrame{};
}

ServerAction ServerReactor::on_command_data(const Frame& f) {
  const std::uint16_t rid = f.header.request_id;
  ServerAction failure;
  Receiving* entry = find_receiving(f, "command-data", failure);
  if (!entry) return failure;
  if (!entry->expecting_data) {
    return error_at(f, E::DataNotAnnounced, "command-data for request " + id(rid) + ", which did not announce have-data");
  }
  if (!entry->request_done) {
    return error_at(f, E::DataBeforeRequestEnd,
                    "command-data for request " + id(rid) + " before its command-request frames were complete");
  }
  const bool cont = f.header.flags & command_data_flags::kContinuation;
  const bool eos = f.header.flags & command_data_flags::kEos;
  if (cont && eos) return error_at(f, E::DataFlags, "command-data frame has both continuation and eos flags");
  if (!cont && !eos) return error_at(f, E::DataFlags, "command-data frame has neither continuation nor eos flag");
  if (!entry->data) entry->data.emplace();
  append(*entry->data, f.payload);
  if (too_large(*entry)) {
    return error_at(f, E::RequestTooLarge,
                    "request " + id(rid) + " exceeds the limit of " + std::to_string(options_.max_request_bytes) +
                        " bytes (request payload + data)");
  }
  if (eos) return completed(f);
  return WantFrame{};
}

ServerAction ServerReactor::completed(const Frame& f) {
  const std::uint16_t rid = f.header.request_id;
  auto node = receiving_.extract(rid);
  Receiving& entry = node.mapped();
  // The request leaves the receiving set: the last one out makes the body idle.
  state_ = receiving_.empty() ? ServerState::Idle : ServerState::CommandReceiving;
  // Errors name the frame that completed the request.
  auto bad = [&](const std::string& what) {
    return error_at(f, E::RequestPayloadInvalid, "request " + id(rid) + ": " + what);
  };

  auto value = cbor_decode_one(entry.payload, {"payload", false, "one map"}, options_.cbor);
  if (!value) return bad(value.error().message);
  json& m = *value;
  if (!m.is_object()) return bad("payload is not a CBOR map");
  RunCommand run;
  run.request_id = rid;
  auto name = m.find("name");
  if (name == m.end()) return bad("payload has no name");
  auto name_text = bytes_or_text(*name);
  if (!name_text) return bad("name is not a byte or text string");
  run.name = std::move(*name_text);
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
  ServerError e = E::None;
  if (state_ == ServerState::Errored) return std::nullopt;
  if (state_ == ServerState::ProtocolSettingsReceiving) {
    e = E::InputEndInProtocolSettings;
    message = "body ended inside the sender protocol settings";
  } else if (state_ == ServerState::CommandReceiving) {
    e = E::InputEndInRequest;
    message = "body ended while request " + id(receiving_.begin()->first) + " was still being received";
  } else if (auto s = streams_.stream_with_pending_settings()) {
    e = E::InputEndInStreamSettings;
    message = "body ended inside the stream settings of stream " + std::to_string(*s);
  } else {
    return std::nullopt;
  }
  state_ = ServerState::Errored;
  return ProtocolError{std::move(message), server_error_name(e)};
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
