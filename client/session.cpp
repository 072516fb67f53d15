#include "client/session.hpp"

#include <algorithm>
#include <type_traits>

#include "client/redirect.hpp"

namespace hgrpc::client {

using framing::Bytes;
using framing::ByteView;

RequestBodyWriter::RequestBodyWriter(framing::ClientReactor& reactor, std::span<const Call> calls,
                                     std::size_t max_frame_size, json redirect)
    : reactor_(reactor),
      calls_(calls),
      max_frame_size_(std::max<std::size_t>(max_frame_size, 1)),
      redirect_(std::move(redirect)) {}

framing::Result<bool> RequestBodyWriter::next(Bytes& out) {
  if (data_) {
    // One data frame: full frames continue, a shorter (maybe empty) one ends.
    Bytes payload;
    auto n = data_->read(payload, max_frame_size_);
    if (!n) return hgrpc::unexpected<framing::Error>(n.error());
    const bool last = payload.size() < max_frame_size_;
    auto sent = last ? reactor_.end_data(data_request_id_, payload, out)
                     : reactor_.send_data(data_request_id_, payload, out);
    if (!sent) return hgrpc::unexpected<framing::Error>(sent.error());
    if (last) data_.reset();
    return data_.has_value() || next_call_ < calls_.size();
  }
  if (next_call_ >= calls_.size()) return false;
  const Call& call = calls_[next_call_];
  auto id = call.data ? reactor_.begin_command(call.command, call.args, out, redirect_)
                      : reactor_.call_command(call.command, call.args, out, std::nullopt, redirect_);
  if (!id) return hgrpc::unexpected<framing::Error>(id.error());
  ids_[*id] = next_call_;
  ++next_call_;
  if (call.data) {
    data_.emplace(*call.data);
    data_request_id_ = *id;
  }
  return true;
}

ResponseBodyReader::ResponseBodyReader(framing::ClientReactor& reactor,
                                       const std::map<std::uint16_t, std::size_t>& ids, OutcomeSink sink,
                                       std::size_t max_frame_payload, ValueSink values)
    : reactor_(reactor), ids_(ids), sink_(std::move(sink)), values_(std::move(values)), reader_(max_frame_payload) {}

framing::Result<void> ResponseBodyReader::feed(ByteView chunk) {
  reader_.feed(chunk);
  for (;;) {
    auto frame = reader_.next();
    if (!frame) return framing::fail("response: " + frame.error().message);
    if (!*frame) return {};
    for (auto& event : reactor_.on_frame(**frame)) {
      if (auto ok = on_event(event); !ok) return ok;
    }
  }
}

framing::Result<void> ResponseBodyReader::on_event(framing::ClientEvent& event) {
  return std::visit(
      [&](auto& e) -> framing::Result<void> {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, framing::ProtocolError>) {
          return framing::fail("response: " + e.message);
        } else if constexpr (std::is_same_v<E, framing::TextOutput> || std::is_same_v<E, framing::Progress>) {
          return {};  // not requested; the reactor drops them anyway
        } else {
          if constexpr (std::is_same_v<E, framing::ErrorResponse>) {
            if (!first_error_response_) {
              first_error_response_ = e.type + " error: " + format_error_message(e.message);
            }
          }
          auto index = ids_.find(e.request_id);
          if (index == ids_.end()) {
            if constexpr (std::is_same_v<E, framing::ErrorResponse>) return {};
            return framing::fail("response: event for unknown request " + std::to_string(e.request_id));
          }
          Outcome& o = partial_[e.request_id];
          bool done = true;
          if constexpr (std::is_same_v<E, framing::ResponseValue>) {
            if (values_) {
              if (auto taken = values_(index->second, std::move(e.value)); !taken) return taken;
            } else {
              o.values.push_back(std::move(e.value));
            }
            done = false;
          } else if constexpr (std::is_same_v<E, framing::ResponseRedirect>) {
            if (!accept_redirects_) {
              return framing::fail("response: request " + std::to_string(e.request_id) +
                                   " was answered with a content redirect, which the client did not offer");
            }
            locations_[e.request_id] = std::move(e.location);
            done = false;
          } else if constexpr (std::is_same_v<E, framing::ResponseEnd>) {
            o.kind = Outcome::Kind::Ok;
            if (auto l = locations_.find(e.request_id); l != locations_.end()) {
              redirected_.push_back(Redirected{index->second, std::move(l->second)});
              locations_.erase(l);
              partial_.erase(e.request_id);
              ++completed_;
              return {};
            }
          } else if constexpr (std::is_same_v<E, framing::CommandError>) {
            o.kind = Outcome::Kind::CommandError;
            auto msg = e.error.is_object() && e.error.contains("message") ? e.error["message"] : e.error;
            o.message = format_error_message(msg);
            o.error = std::move(e.error);
          } else if constexpr (std::is_same_v<E, framing::ErrorResponse>) {
            o.kind = Outcome::Kind::ErrorResponse;
            o.error_type = e.type;
            o.message = format_error_message(e.message);
            o.error = json{{"type", e.type}, {"message", e.message}};
          }
          if (done) {
            Outcome finished = std::move(o);
            partial_.erase(e.request_id);
            ++completed_;
            sink_(index->second, std::move(finished));
          }
          return {};
        }
      },
      event);
}

framing::Result<void> ResponseBodyReader::finish() {
  if (auto ok = reader_.finish(); !ok) return framing::fail("response: " + ok.error().message);
  if (auto err = reactor_.on_input_end()) return framing::fail("response: " + err->message);
  if (completed_ < ids_.size()) {
    for (const auto& [id, index] : ids_) {
      (void)index;
      if (!partial_.count(id)) continue;
      return framing::fail("response ended before request " + std::to_string(id) + " was answered");
    }
    return framing::fail("response ended before " + std::to_string(ids_.size() - completed_) +
                         " request(s) were answered");
  }
  return {};
}

ClientResult<void> run_calls(HttpTransport& transport, std::span<const Call> calls, const SessionOptions& options,
                             const OutcomeSink& sink, ProgressLine* progress, const ValueSink& values) {
  if (calls.empty()) return {};
  auto api = transport.api_path();
  if (!api) return hgrpc::unexpected<ClientError>(api.error());
  bool multi = options.force_multirequest || calls.size() > 1;
  std::string path = *api + options.permission + "/" + (multi ? std::string("multirequest") : calls[0].command);

  if (options.upload_encoding) {
    // Only servers that list the profile decode it (Mercurial's reject any
    // encoded client frame); a direct API URL skips the handshake: trusted.
    const auto& decodes = transport.server_content_encodings();
    const std::string name(framing::encoding_name(*options.upload_encoding));
    if (!transport.url().direct_api &&
        (!decodes || std::find(decodes->begin(), decodes->end(), name) == decodes->end())) {
      return client_fail(ErrorKind::Usage, "--upload-encoding " + name +
                                               ": the server does not list it among the content encodings it decodes");
    }
  }
  framing::ClientReactorOptions ro;
  if (!options.accept_encodings.empty()) ro.content_encodings = options.accept_encodings;
  ro.upload_encoding = options.upload_encoding;
  ro.input_streams.decoder.max_decoded_bytes = options.max_decoded_bytes;
  framing::ClientReactor reactor(ro);
  RequestBodyWriter writer(reactor, calls, options.data_chunk_bytes, options.redirect);
  ResponseBodyReader reader(reactor, writer.ids(), sink, options.max_frame_payload, values);
  reader.accept_redirects(!options.redirect.is_null());

  // A framed answer with an error status (400: a protocol error before any
  // output) is read whole for its error-response, whatever else is wrong.
  std::optional<std::string> decode_error;
  auto consume = [&](const HttpStatus& s, ByteView chunk) -> framing::Result<void> {
    if (decode_error) return {};
    auto ok = reader.feed(chunk);
    if (!ok && s.status != 200) {
      decode_error = ok.error().message;
      return {};
    }
    return ok;
  };
  auto status = transport.post_frames(
      path, [&](Bytes& out) { return writer.next(out); }, consume, progress);
  if (!status) return hgrpc::unexpected<ClientError>(status.error());
  if (status->status != 200) {
    std::string msg = "HTTP " + std::to_string(status->status) + " " + status->reason;
    if (reader.first_error_response()) {
      msg += ": " + *reader.first_error_response();
    } else if (decode_error) {
      msg += ": " + *decode_error;
    }
    return client_fail(ErrorKind::Protocol, msg);
  }
  if (auto ok = reader.finish(); !ok) {
    std::string msg = ok.error().message;
    if (reader.first_error_response()) msg += " (server reported " + *reader.first_error_response() + ")";
    return client_fail(ErrorKind::Protocol, msg);
  }
  for (auto& r : reader.redirected()) {
    Outcome o;
    o.kind = Outcome::Kind::Ok;
    const std::size_t index = r.call_index;
    auto followed = follow_redirect(
        transport, calls[index].command, r.location, options.max_redirect_bytes,
        [&](json&& v) -> framing::Result<void> {
          if (values) return values(index, std::move(v));
          o.values.push_back(std::move(v));
          return {};
        },
        progress);
    if (!followed) return hgrpc::unexpected<ClientError>(followed.error());
    sink(index, std::move(o));
  }
  return {};
}

}  // namespace hgrpc::client
