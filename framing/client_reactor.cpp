#include "framing/client_reactor.hpp"

#include <algorithm>
#include <utility>

#include "framing/frame_checks.hpp"

namespace hgrpc::framing {

using CE = ClientReactorError;
using RS = RequestState;
using RE = RequestEvent;

std::string_view client_state_name(ClientState s) {
  switch (s) {
    case ClientState::Initial: return "initial";
    case ClientState::Open: return "open";
    case ClientState::Errored: return "errored";
  }
  return "errored";
}

std::string_view request_state_name(RequestState s) {
  switch (s) {
    case RS::SendingData: return "sending-data";
    case RS::AwaitingStatus: return "awaiting-status";
    case RS::Values: return "values";
    case RS::Error: return "error";
  }
  return "error";
}

std::string_view request_event_name(RequestEvent e) {
  switch (e) {
    case RE::SendData: return "send-data";
    case RE::EndData: return "end-data";
    case RE::Response: return "response";
    case RE::StatusOk: return "status-ok";
    case RE::StatusError: return "status-error";
    case RE::ResponseEos: return "response-eos";
    case RE::ErrorResponse: return "error-response";
  }
  return "error-response";
}

std::string_view client_error_name(ClientReactorError e) {
  switch (e) {
    case CE::None: return "";
    case CE::AlreadyErrored: return "already-errored";
    case CE::NoPendingResponse: return "no-pending-response";
    case CE::ResponseBeforeDataEnd: return "response-before-data-end";
    case CE::ResponseFlags: return "response-flags";
    case CE::ResponseInvalid: return "response-invalid";
    case CE::BadStatus: return "bad-status";
    case CE::ResponseInsideValue: return "response-inside-value";
    case CE::ResponseWithoutStatus: return "response-without-status";
    case CE::ErrorResponseInvalid: return "error-response-invalid";
    case CE::SideChannelInvalid: return "side-channel-invalid";
    case CE::InputEndInResponse: return "input-end-in-response";
    case CE::InputEndInStreamSettings: return "input-end-in-stream-settings";
    case CE::DataNotExpected: return "data-not-expected";
    case CE::ValueAfterRedirect: return "value-after-redirect";
  }
  return "";
}

namespace {

// A cell of the request table: the next state (Done: erase the request), or
// the named error of an illegal event.
enum class Next : std::uint8_t { SendingData, AwaitingStatus, Values, Error, Done, Illegal };
struct RequestCell {
  Next next;
  ClientReactorError error = CE::None;
};

constexpr RequestCell go(Next n) { return {n}; }
constexpr RequestCell no(ClientReactorError e) { return {Next::Illegal, e}; }
constexpr RequestCell kNone = no(CE::None);  // cannot happen: no value reaches these states

// Rows: RequestState; columns: RequestEvent (send-data, end-data, response,
// status-ok, status-error, response-eos, error-response). The header's table.
constexpr RequestCell kRequestTransitions[4][7] = {
    /* sending-data */
    {go(Next::SendingData), go(Next::AwaitingStatus), no(CE::ResponseBeforeDataEnd), kNone, kNone, kNone,
     go(Next::Done)},
    /* awaiting-status */
    {no(CE::DataNotExpected), no(CE::DataNotExpected), go(Next::AwaitingStatus), go(Next::Values), go(Next::Error),
     no(CE::ResponseWithoutStatus), go(Next::Done)},
    /* values */
    {no(CE::DataNotExpected), no(CE::DataNotExpected), go(Next::Values), kNone, kNone, go(Next::Done),
     go(Next::Done)},
    /* error */
    {no(CE::DataNotExpected), no(CE::DataNotExpected), go(Next::Error), kNone, kNone, go(Next::Done),
     go(Next::Done)},
};

constexpr RequestCell request_cell(RequestState s, RequestEvent e) {
  return kRequestTransitions[static_cast<std::size_t>(s)][static_cast<std::size_t>(e)];
}

constexpr RequestState state_of(Next n) {
  switch (n) {
    case Next::SendingData: return RS::SendingData;
    case Next::AwaitingStatus: return RS::AwaitingStatus;
    case Next::Values: return RS::Values;
    default: return RS::Error;
  }
}

}  // namespace

ClientReactor::ClientReactor(ClientReactorOptions options)
    : options_(std::move(options)),
      stream1_(1, nullptr, options_.max_frame_size),
      streams_(false, options_.input_streams) {
  if (options_.upload_encoding) {
    upload_.emplace(3, make_encoder(*options_.upload_encoding, options_.encoder),
                    options_.max_frame_size);
  }
}
ClientReactor::~ClientReactor() = default;
ClientReactor::ClientReactor(ClientReactor&&) noexcept = default;
ClientReactor& ClientReactor::operator=(ClientReactor&&) noexcept = default;

std::optional<RequestState> ClientReactor::request_state(std::uint16_t request_id) const {
  auto it = pending_.find(request_id);
  if (it == pending_.end()) return std::nullopt;
  return it->second.state;
}

Bytes ClientReactor::protocol_settings_payload() const {
  json m = json::object();
  if (!options_.content_encodings.empty()) {
    json list = json::array();
    for (Encoding e : options_.content_encodings) list.push_back(cbor_bytes(encoding_name(e)));
    m["contentencodings"] = std::move(list);
  }
  if (options_.accept_text_output || options_.accept_progress) {
    json list = json::array();
    if (options_.accept_text_output) list.push_back(cbor_bytes("text-output"));
    if (options_.accept_progress) list.push_back(cbor_bytes("progress"));
    m["hgrpc-accept-frames"] = std::move(list);
  }
  return m.empty() ? Bytes{} : cbor_encode(m);
}

Result<void> ClientReactor::render(std::uint16_t request_id, FrameType type, std::uint8_t flags, ByteView payload,
                                   Bytes& out) {
  PlannedFrame f;
  f.stream_id = upload_ ? 3 : 1;
  f.request_id = request_id;
  f.type = type;
  f.flags = flags;
  f.payload.assign(payload.begin(), payload.end());
  f.encode = upload_.has_value();
  auto rendered = (upload_ ? *upload_ : stream1_).render(f, out);
  if (!rendered) return hgrpc::unexpected<Error>(rendered.error());
  return {};
}

Result<std::uint16_t> ClientReactor::send_request(std::string_view name, const json& args, Bytes& out,
                                                  bool have_data, const json& redirect) {
  const std::uint16_t rid = next_request_id_;
  next_request_id_ = static_cast<std::uint16_t>(next_request_id_ + 2);
  const std::size_t max = std::max(options_.max_frame_size, kMinFrameSize);

  if (state_ == ClientState::Initial) {
    state_ = ClientState::Open;
    Bytes payload = protocol_settings_payload();
    if (!payload.empty()) {
      // Settings never span frames in practice; split anyway if they must.
      ByteView rest = payload;
      auto settings = [&](std::uint8_t flags, ByteView part) {
        PlannedFrame f;
        f.stream_id = 1;
        f.request_id = rid;
        f.type = FrameType::SenderProtocolSettings;
        f.flags = flags;
        f.payload.assign(part.begin(), part.end());
        return stream1_.render(f, out);
      };
      while (rest.size() > max) {
        if (auto r = settings(settings_flags::kContinuation, rest.first(max)); !r) return hgrpc::unexpected<Error>(r.error());
        rest = rest.subspan(max);
      }
      if (auto r = settings(settings_flags::kEos, rest); !r) return hgrpc::unexpected<Error>(r.error());
    }
  }

  json request = json::object();
  request["name"] = cbor_bytes(name);
  if (args.is_object() && !args.empty()) request["args"] = args;
  if (!redirect.is_null()) request["redirect"] = redirect;
  const Bytes cbor = cbor_encode(request);

  const std::uint8_t data_flag = have_data ? command_request_flags::kHaveData : 0;
  std::size_t offset = 0;
  do {
    std::uint8_t flags = offset == 0 ? command_request_flags::kNew : command_request_flags::kContinuation;
    flags |= data_flag;
    const std::size_t n = std::min(max, cbor.size() - offset);
    if (offset + n < cbor.size()) flags |= command_request_flags::kMore;
    if (auto r = render(rid, FrameType::CommandRequest, flags, ByteView(cbor).subspan(offset, n), out); !r) {
      return hgrpc::unexpected<Error>(r.error());
    }
    offset += n;
  } while (offset < cbor.size());

  Pending p{CborDecoder(options_.cbor)};
  p.state = have_data ? RS::SendingData : RS::AwaitingStatus;
  pending_.insert_or_assign(rid, std::move(p));
  return rid;
}

Result<std::uint16_t> ClientReactor::call_command(std::string_view name, const json& args, Bytes& out,
                                                  std::optional<ByteView> data, const json& redirect) {
  auto rid = send_request(name, args, out, data.has_value(), redirect);
  if (!rid || !data) return rid;
  if (auto r = end_data(*rid, *data, out); !r) return hgrpc::unexpected<Error>(r.error());
  return rid;
}

Result<std::uint16_t> ClientReactor::begin_command(std::string_view name, const json& args, Bytes& out,
                                                   const json& redirect) {
  return send_request(name, args, out, true, redirect);
}

Result<void> ClientReactor::send_data(std::uint16_t request_id, ByteView chunk, Bytes& out) {
  return send_data_frames(request_id, chunk, false, out);
}

Result<void> ClientReactor::end_data(std::uint16_t request_id, ByteView last, Bytes& out) {
  return send_data_frames(request_id, last, true, out);
}

Result<void> ClientReactor::send_data_frames(std::uint16_t request_id, ByteView data, bool last, Bytes& out) {
  auto it = pending_.find(request_id);
  const RequestEvent event = last ? RE::EndData : RE::SendData;
  const RequestCell cell = it == pending_.end() ? no(CE::DataNotExpected) : request_cell(it->second.state, event);
  if (cell.next == Next::Illegal) {
    return fail(client_error_name(cell.error),
                "command data for request " + std::to_string(request_id) + ", which " +
                    (it == pending_.end() ? std::string("is not pending")
                                          : "is " + std::string(request_state_name(it->second.state)) +
                                                ", not sending data"));
  }
  const std::size_t max = std::max(options_.max_frame_size, kMinFrameSize);
  ByteView rest = data;
  // Full frames continue; when ending, the shorter (possibly empty) last one carries eos.
  while (rest.size() >= max || (!last && !rest.empty())) {
    const std::size_t n = std::min(max, rest.size());
    if (auto r = render(request_id, FrameType::CommandData, command_data_flags::kContinuation, rest.first(n), out); !r) {
      return r;
    }
    rest = rest.subspan(n);
  }
  if (last) {
    if (auto r = render(request_id, FrameType::CommandData, command_data_flags::kEos, rest, out); !r) return r;
  }
  it->second.state = state_of(cell.next);
  return {};
}

void ClientReactor::expect_request(std::uint16_t request_id) {
  pending_.try_emplace(request_id, Pending{CborDecoder(options_.cbor)});
}

void ClientReactor::fail_with(std::vector<ClientEvent>& out, ClientReactorError e, std::string message) {
  state_ = ClientState::Errored;
  out.emplace_back(ProtocolError{std::move(message), client_error_name(e)});
}

bool ClientReactor::step(std::map<std::uint16_t, Pending>::iterator it, RequestEvent event,
                         std::vector<ClientEvent>& out, const std::string& where) {
  const RequestCell cell = request_cell(it->second.state, event);
  const std::string rid = std::to_string(it->first);
  switch (cell.next) {
    case Next::Illegal:
      if (cell.error == CE::ResponseBeforeDataEnd) {
        fail_with(out, cell.error, where + ": response to request " + rid + " before its command data ended");
      } else {
        fail_with(out, cell.error, where + ": response to request " + rid + " ended without a status map");
      }
      return false;
    case Next::Done:
      pending_.erase(it);
      return true;
    default:
      it->second.state = state_of(cell.next);
      return true;
  }
}

std::vector<ClientEvent> ClientReactor::on_frame(const Frame& raw) {
  std::vector<ClientEvent> out;
  const std::size_t index = index_++;
  const FrameHeader& h = raw.header;
  const std::string where = describe_frame(index, h);
  if (state_ == ClientState::Errored) {
    fail_with(out, CE::AlreadyErrored, where + ": already errored after an earlier protocol error");
    return out;
  }
  if (auto bad = check_header(h, Sender::Server)) {
    state_ = ClientState::Errored;
    out.emplace_back(ProtocolError{where + ": " + bad->detail, header_error_name(bad->error)});
    return out;
  }
  auto accepted = streams_.accept(index, raw);
  if (!accepted) {
    state_ = ClientState::Errored;
    out.emplace_back(ProtocolError{std::move(accepted.error().message), accepted.error().name});
    return out;
  }
  if (!*accepted) return out;
  const Frame& f = **accepted;

  auto it = pending_.find(h.request_id);
  if (it == pending_.end()) {
    fail_with(out, CE::NoPendingResponse,
              where + ": frame for request " + std::to_string(h.request_id) + ", which has no pending response");
    return out;
  }
  const std::uint16_t rid = h.request_id;
  auto decode_one = [&](const char* what, ClientReactorError e) -> std::optional<json> {
    auto value = cbor_decode_one(f.payload, {std::string(what) + " payload"}, options_.cbor);
    if (!value) {
      fail_with(out, e, where + ": " + value.error().message);
      return std::nullopt;
    }
    return std::move(*value);
  };

  switch (static_cast<FrameType>(h.type)) {
    case FrameType::CommandResponse:
      on_response(f, it, out);
      break;
    case FrameType::ErrorResponse: {
      auto m = decode_one("error-response", CE::ErrorResponseInvalid);
      if (!m) break;
      if (!m->is_object() || !m->contains("type") || !m->contains("message")) {
        fail_with(out, CE::ErrorResponseInvalid, where + ": error-response payload is not a map with type and message");
        break;
      }
      out.emplace_back(ErrorResponse{rid, bytes_or_text((*m)["type"]).value_or(""), (*m)["message"]});
      step(it, RE::ErrorResponse, out, where);
      break;
    }
    case FrameType::TextOutput: {
      auto m = decode_one("text-output", CE::SideChannelInvalid);
      if (m) out.emplace_back(TextOutput{rid, std::move(*m)});
      break;
    }
    case FrameType::Progress: {
      auto m = decode_one("progress", CE::SideChannelInvalid);
      if (m) out.emplace_back(Progress{rid, std::move(*m)});
      break;
    }
    default:  // stream-settings went to InputStreams; client frames failed check_header
      break;
  }
  return out;
}

void ClientReactor::on_response(const Frame& f, std::map<std::uint16_t, Pending>::iterator it,
                                std::vector<ClientEvent>& out) {
  const std::uint16_t rid = f.header.request_id;
  const std::string where = describe_frame(index_ - 1, f.header);
  const std::string request = "response to request " + std::to_string(rid);
  const bool cont = f.header.flags & command_response_flags::kContinuation;
  const bool eos = f.header.flags & command_response_flags::kEos;
  if (cont && eos) {
    return fail_with(out, CE::ResponseFlags, where + ": command-response frame has both continuation and eos flags");
  }
  if (!cont && !eos) {
    return fail_with(out, CE::ResponseFlags, where + ": command-response frame has neither continuation nor eos flag");
  }
  if (!step(it, RE::Response, out, where)) return;
  Pending& p = it->second;
  if (auto r = p.decoder.feed(f.payload); !r) {
    return fail_with(out, CE::ResponseInvalid, where + ": " + request + " is not valid CBOR: " + r.error().message);
  }
  while (auto v = p.decoder.next()) {
    if (p.state == RS::AwaitingStatus) {
      const json* status = v->is_object() && v->contains("status") ? &(*v)["status"] : nullptr;
      const std::string s = status ? bytes_or_text(*status).value_or("") : std::string();
      if (s == "ok") {
        step(it, RE::StatusOk, out, where);
        continue;
      }
      if (s == "redirect" && v->contains("location") && (*v)["location"].is_object()) {
        step(it, RE::StatusOk, out, where);
        it->second.redirected = true;
        out.emplace_back(ResponseRedirect{rid, std::move((*v)["location"])});
        continue;
      }
      if (s == "error") {
        step(it, RE::StatusError, out, where);
        json error = v->contains("error") ? (*v)["error"] : json::object();
        out.emplace_back(CommandError{rid, std::move(error)});
        continue;
      }
      return fail_with(out, CE::BadStatus,
                       where + ": " + request +
                           (s.empty()          ? " does not start with a status map"
                            : s == "redirect" ? " has status 'redirect' without a location map"
                                              : " has unsupported status '" + s + "'"));
    }
    if (p.redirected) {
      return fail_with(out, CE::ValueAfterRedirect, where + ": " + request + " has a value after its content redirect");
    }
    if (p.state == RS::Values) out.emplace_back(ResponseValue{rid, std::move(*v)});
  }
  if (!eos) return;
  if (!p.decoder.at_boundary()) {
    return fail_with(out, CE::ResponseInsideValue, where + ": " + request + " ended inside a CBOR value");
  }
  const bool ok = p.state == RS::Values;
  if (!step(it, RE::ResponseEos, out, where)) return;
  if (ok) out.emplace_back(ResponseEnd{rid});
}

std::optional<ProtocolError> ClientReactor::on_input_end() {
  if (state_ == ClientState::Errored) return std::nullopt;
  std::optional<std::uint8_t> s = streams_.stream_with_pending_settings();
  if (pending_.empty() && !s) return std::nullopt;
  state_ = ClientState::Errored;
  if (!pending_.empty()) {
    return ProtocolError{"body ended before the response to request " + std::to_string(pending_.begin()->first) +
                             " was complete",
                         client_error_name(CE::InputEndInResponse)};
  }
  return ProtocolError{"body ended inside the stream settings of stream " + std::to_string(*s),
                       client_error_name(CE::InputEndInStreamSettings)};
}

}  // namespace hgrpc::framing
