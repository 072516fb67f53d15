#include "framing/client_reactor.hpp"

#include <algorithm>
#include <utility>

namespace hgrpc::framing {

namespace {

std::string bytes_text(const json& v) {
  if (v.is_binary()) return {v.get_binary().begin(), v.get_binary().end()};
  if (v.is_string()) return v.get<std::string>();
  return {};
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

Result<std::uint16_t> ClientReactor::call_command(std::string_view name, const json& args,
                                                  Bytes& out, std::optional<ByteView> data,
                                                  const json& redirect) {
  const std::uint16_t rid = next_request_id_;
  next_request_id_ = static_cast<std::uint16_t>(next_request_id_ + 2);
  const std::size_t max = std::max(options_.max_frame_size, kMinFrameSize);

  PlannedFrames planned;
  auto plan = [&](std::uint8_t sid, FrameType type, std::uint8_t flags, ByteView payload, bool encode) {
    PlannedFrame f;
    f.stream_id = sid;
    f.request_id = rid;
    f.type = type;
    f.flags = flags;
    f.payload.assign(payload.begin(), payload.end());
    f.encode = encode;
    planned.push_back(std::move(f));
  };

  if (!settings_sent_) {
    settings_sent_ = true;
    Bytes payload = protocol_settings_payload();
    if (!payload.empty()) {
      // Settings never span frames in practice; split anyway if they must.
      ByteView rest = payload;
      while (rest.size() > max) {
        plan(1, FrameType::SenderProtocolSettings, settings_flags::kContinuation, rest.first(max), false);
        rest = rest.subspan(max);
      }
      plan(1, FrameType::SenderProtocolSettings, settings_flags::kEos, rest, false);
    }
  }

  json request = json::object();
  request["name"] = cbor_bytes(name);
  if (args.is_object() && !args.empty()) request["args"] = args;
  if (!redirect.is_null()) request["redirect"] = redirect;
  const Bytes cbor = cbor_encode(request);

  const std::uint8_t sid = upload_ ? 3 : 1;
  const bool encode = upload_.has_value();
  const std::uint8_t have_data = data ? command_request_flags::kHaveData : 0;
  std::size_t offset = 0;
  do {
    std::uint8_t flags = offset == 0 ? command_request_flags::kNew : command_request_flags::kContinuation;
    flags |= have_data;
    const std::size_t n = std::min(max, cbor.size() - offset);
    if (offset + n < cbor.size()) flags |= command_request_flags::kMore;
    plan(sid, FrameType::CommandRequest, flags, ByteView(cbor).subspan(offset, n), encode);
    offset += n;
  } while (offset < cbor.size());

  if (data) {
    ByteView rest = *data;
    // As Mercurial: full frames continue; a shorter (possibly empty) one ends.
    while (true) {
      const std::size_t n = std::min(max, rest.size());
      const bool last = n < max;
      plan(sid, FrameType::CommandData,
           last ? command_data_flags::kEos : command_data_flags::kContinuation, rest.first(n),
           encode);
      rest = rest.subspan(n);
      if (last) break;
    }
  }

  for (const auto& f : planned) {
    OutputStream& s = f.stream_id == 1 ? stream1_ : *upload_;
    auto r = s.render(f, out);
    if (!r) return hgrpc::unexpected<Error>(r.error());
  }
  pending_.try_emplace(rid, Pending{CborDecoder(options_.cbor)});
  return rid;
}

void ClientReactor::expect_request(std::uint16_t request_id) {
  pending_.try_emplace(request_id, Pending{CborDecoder(options_.cbor)});
}

void ClientReactor::fail_with(std::vector<ClientEvent>& out, std::string message) {
  errored_ = true;
  out.emplace_back(ProtocolError{std::move(message)});
}

std::vector<ClientEvent> ClientReactor::on_frame(const Frame& raw) {
  std::vector<ClientEvent> out;
  const std::size_t index = index_++;
  const FrameHeader& h = raw.header;
  const std::string where = describe_frame(index, h);
  if (errored_) {
    fail_with(out, where + ": already errored after an earlier protocol error");
    return out;
  }
  if (!is_known_frame_type(h.type)) {
    fail_with(out, where + ": unknown frame type " + hex_byte(h.type));
    return out;
  }
  if (const std::uint8_t bad = h.flags & ~defined_flags(h.type)) {
    fail_with(out, where + ": undefined flags " + hex_byte(bad) + " for " +
                       std::string(frame_type_name(h.type)));
    return out;
  }
  switch (static_cast<FrameType>(h.type)) {
    case FrameType::CommandRequest:
    case FrameType::CommandData:
    case FrameType::SenderProtocolSettings:
      fail_with(out, where + ": " + std::string(frame_type_name(h.type)) +
                         " frames are only sent by clients");
      return out;
    default:
      break;
  }
  auto accepted = streams_.accept(index, raw);
  if (!accepted) {
    fail_with(out, std::move(accepted.error().message));
    return out;
  }
  if (!*accepted) return out;
  const Frame& f = **accepted;

  auto it = pending_.find(h.request_id);
  if (it == pending_.end()) {
    fail_with(out, where + ": frame for request " + std::to_string(h.request_id) +
                       ", which has no pending response");
    return out;
  }
  const std::uint16_t rid = h.request_id;
  auto decode_one = [&](const char* what) -> std::optional<json> {
    auto values = cbor_decode_all(f.payload, options_.cbor);
    if (!values) {
      fail_with(out, where + ": " + what + " payload is not valid CBOR: " + values.error().message);
      return std::nullopt;
    }
    if (values->size() != 1) {
      fail_with(out, where + ": " + what + " payload holds " + std::to_string(values->size()) +
                         " CBOR values; expected one");
      return std::nullopt;
    }
    return std::move(values->front());
  };

  switch (static_cast<FrameType>(h.type)) {
    case FrameType::CommandResponse:
      on_response(f, it->second, out);
      break;
    case FrameType::ErrorResponse: {
      auto m = decode_one("error-response");
      if (!m) break;
      if (!m->is_object() || !m->contains("type") || !m->contains("message")) {
        fail_with(out, where + ": error-response payload is not a map with type and message");
        break;
      }
      out.emplace_back(ErrorResponse{rid, bytes_text((*m)["type"]), (*m)["message"]});
      pending_.erase(it);
      break;
    }
    case FrameType::TextOutput: {
      auto m = decode_one("text-output");
      if (m) out.emplace_back(TextOutput{rid, std::move(*m)});
      break;
    }
    case FrameType::Progress: {
      auto m = decode_one("progress");
      if (m) out.emplace_back(Progress{rid, std::move(*m)});
      break;
    }
    default:
      fail_with(out, where + ": unexpected frame type");
      break;
  }
  return out;
}

void ClientReactor::on_response(const Frame& f, Pending& p, std::vector<ClientEvent>& out) {
  const std::uint16_t rid = f.header.request_id;
  const std::string where = describe_frame(index_ - 1, f.header);
  const bool cont = f.header.flags & command_response_flags::kContinuation;
  const bool eos = f.header.flags & command_response_flags::kEos;
  if (cont && eos) return fail_with(out, where + ": command-response frame has both continuation and eos flags");
  if (!cont && !eos) return fail_with(out, where + ": command-response frame has neither continuation nor eos flag");
  if (auto r = p.decoder.feed(f.payload); !r) {
    return fail_with(out, where + ": response to request " + std::to_string(rid) +
                              " is not valid CBOR: " + r.error().message);
  }
  while (auto v = p.decoder.next()) {
    if (!p.status_seen) {
      p.status_seen = true;
      const json* status = v->is_object() && v->contains("status") ? &(*v)["status"] : nullptr;
      const std::string s = status ? bytes_text(*status) : std::string();
      if (s == "ok") continue;
      if (s == "error") {
        p.is_error = true;
        json error = v->contains("error") ? (*v)["error"] : json::object();
        out.emplace_back(CommandError{rid, std::move(error)});
        continue;
      }
      return fail_with(out, where + ": response to request " + std::to_string(rid) +
                                (s.empty() ? " does not start with a status map"
                                           : " has unsupported status '" + s + "'"));
    }
    if (!p.is_error) out.emplace_back(ResponseValue{rid, std::move(*v)});
  }
  if (!eos) return;
  if (!p.decoder.at_boundary()) {
    return fail_with(out, where + ": response to request " + std::to_string(rid) +
                              " ended inside a CBOR value");
  }
  if (!p.status_seen) {
    return fail_with(out, where + ": response to request " + std::to_string(rid) +
                              " ended without a status map");
  }
  if (!p.is_error) out.emplace_back(ResponseEnd{rid});
  pending_.erase(rid);
}

std::optional<ProtocolError> ClientReactor::on_input_end() {
  if (errored_) return std::nullopt;
  std::optional<std::uint8_t> s = streams_.stream_with_pending_settings();
  if (pending_.empty() && !s) return std::nullopt;
  errored_ = true;
  if (!pending_.empty()) {
    return ProtocolError{"body ended before the response to request " +
                         std::to_string(pending_.begin()->first) + " was complete"};
  }
  return ProtocolError{"body ended inside the stream settings of stream " + std::to_string(*s)};
}

}  // namespace hgrpc::framing
