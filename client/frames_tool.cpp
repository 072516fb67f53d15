#include "client/frames_tool.hpp"

#include <map>
#include <vector>

#include "framing/cbor.hpp"
#include "framing/frame_reader.hpp"
#include "framing/human_notation.hpp"
#include "framing/python_literal.hpp"
#include "framing/stream.hpp"

namespace hgrpc::client {

using framing::Bytes;
using framing::ByteView;
using framing::FrameType;

namespace {

// A payload as notation: cbor:<literal> as format_human_frame prints it,
// else a byte literal.
std::string payload_notation(ByteView payload) {
  if (auto cbor = framing::format_cbor_notation(payload)) return *cbor;
  return "b'" + framing::escape_bytes(payload) + "'";
}

// Per request: CBOR values reassembled across frames, and command data.
struct RequestState {
  framing::CborDecoder decoder;
  std::vector<json> values;
  Bytes data;
  bool has_data = false;
  std::optional<json> error;
};

class Decoder {
 public:
  explicit Decoder(const FramesDecodeOptions& options) : options_(options) {}

  framing::Result<void> run(ByteView body) {
    framing::FrameReader reader(options_.max_payload);
    reader.feed(body);
    for (;;) {
      auto next = reader.next();
      if (!next) return hgrpc::unexpected<framing::Error>(next.error());
      if (!*next) break;
      auto ok = on_frame(reader.frames_read() - 1, **next);
      if (!ok) return ok;
    }
    if (auto ok = reader.finish(); !ok) return ok;
    if (options_.values) print_values();
    if (first_error_) return hgrpc::unexpected<framing::Error>(*first_error_);
    return {};
  }

  std::string& text() { return text_; }

 private:
  void line(const std::string& s) {
    if (options_.values) return;
    // Notes are for reading: long ones are cut (frame lines never are).
    constexpr std::size_t kMaxNote = 4096;
    if (s.starts_with("#") && s.size() > kMaxNote) {
      text_ += s.substr(0, kMaxNote) + "... (" + std::to_string(s.size() - kMaxNote) + " more characters)\n";
      return;
    }
    text_ += s + "\n";
  }

  RequestState& request(std::uint16_t id) {
    auto [it, inserted] = requests_.try_emplace(id);
    if (inserted) order_.push_back(id);
    return it->second;
  }

  framing::Result<void> on_frame(std::size_t index, const framing::Frame& raw) {
    line(framing::format_human_frame(raw));
    if (!streams_) streams_.emplace(raw.header.stream_id % 2 == 1);  // odd: a request body
    auto accepted = streams_->accept(index, raw);
    if (!accepted) {
      // A rule broken at stream level: note it and go on, so that the whole
      // body is still shown; decode_frames reports the first such error.
      text_ += "# error: " + accepted.error().message + "\n";
      if (!first_error_) first_error_ = accepted.error();
      return {};
    }
    if (!*accepted) {
      if (auto e = streams_->encoding_of(raw.header.stream_id)) {
        line("# stream " + std::to_string(raw.header.stream_id) + ": " + std::string(framing::encoding_name(*e)));
      }
      return {};
    }
    const framing::Frame& f = **accepted;
    if ((raw.header.stream_flags & framing::stream_flags::kEncoded) && !raw.payload.empty()) {
      line("#   decoded: " + payload_notation(f.payload));
    }
    std::string who = "# request " + std::to_string(f.header.request_id);
    switch (static_cast<FrameType>(f.header.type)) {
      case FrameType::CommandRequest:
      case FrameType::CommandResponse: {
        RequestState& r = request(f.header.request_id);
        if (auto ok = r.decoder.feed(f.payload); !ok) {
          return framing::fail(framing::describe_frame(index, f.header) + ": " + ok.error().message);
        }
        while (auto v = r.decoder.next()) {
          line(who + " value: cbor:" + framing::format_python_literal(*v));
          r.values.push_back(std::move(*v));
        }
        if (f.header.type == static_cast<std::uint8_t>(FrameType::CommandResponse) &&
            (f.header.flags & framing::command_response_flags::kEos)) {
          if (!r.decoder.at_boundary()) {
            return framing::fail(framing::describe_frame(index, f.header) + ": response ends inside a CBOR value");
          }
          line(who + " end");
        }
        break;
      }
      case FrameType::CommandData: {
        RequestState& r = request(f.header.request_id);
        r.has_data = true;
        framing::append(r.data, f.payload);
        if (f.header.flags & framing::command_data_flags::kEos) {
          line(who + " data (" + std::to_string(r.data.size()) + " bytes): b'" + framing::escape_bytes(r.data) + "'");
        }
        break;
      }
      case FrameType::ErrorResponse:
      case FrameType::TextOutput:
      case FrameType::Progress: {
        auto value = framing::cbor_decode_one(f.payload, {"payload"});
        if (!value) return framing::fail(framing::describe_frame(index, f.header) + ": " + value.error().message);
        const char* what = f.header.type == static_cast<std::uint8_t>(FrameType::ErrorResponse) ? " error: "
                           : f.header.type == static_cast<std::uint8_t>(FrameType::TextOutput) ? " text: "
                                                                                                : " progress: ";
        line(who + what + "cbor:" + framing::format_python_literal(*value));
        if (f.header.type == static_cast<std::uint8_t>(FrameType::ErrorResponse)) {
          request(f.header.request_id).error = std::move(*value);
        }
        break;
      }
      default:
        break;  // protocol settings: the notation line says it all
    }
    return {};
  }

  void print_values() {
    for (auto id : order_) {
      RequestState& r = requests_[id];
      json out = json::object();
      out["request_id"] = id;
      json values = json::array();
      for (const auto& v : r.values) values.push_back(to_output_json(v, options_.bytes_style));
      out["values"] = std::move(values);
      if (r.has_data) out["data"] = to_output_json(framing::cbor_bytes(ByteView(r.data)), options_.bytes_style);
      if (r.error) out["error"] = to_output_json(*r.error, options_.bytes_style);
      text_ += out.dump() + "\n";
    }
  }

  FramesDecodeOptions options_;
  std::optional<framing::InputStreams> streams_;
  std::map<std::uint16_t, RequestState> requests_;
  std::vector<std::uint16_t> order_;
  std::string text_;
  std::optional<framing::Error> first_error_;
};

}  // namespace

hgrpc::expected<std::string, FramesDecodeError> decode_frames(ByteView body, const FramesDecodeOptions& options) {
  Decoder d(options);
  auto ok = d.run(body);
  if (!ok) {
    return hgrpc::unexpected<FramesDecodeError>(
        FramesDecodeError{{ErrorKind::Protocol, ok.error().message}, std::move(d.text())});
  }
  return std::move(d.text());
}

ClientResult<Bytes> encode_frames(std::string_view text) {
  Bytes out;
  std::size_t line_number = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos || line[first] == '#') continue;
    auto frame = framing::parse_human_frame(line);
    if (!frame) {
      return client_fail(ErrorKind::Usage, "line " + std::to_string(line_number) + ": " + frame.error().message);
    }
    framing::append_frame(out, frame->header, frame->payload);
  }
  return out;
}

}  // namespace hgrpc::client
