#include "framing/stream.hpp"

#include <algorithm>
#include <utility>

namespace hgrpc::framing {

std::string describe_frame(std::size_t index, const FrameHeader& h) {
  std::string type(frame_type_name(h.type));
  if (type.empty()) type = "type " + hex_byte(h.type);
  return "frame " + std::to_string(index) + " (" + type + ", request " +
         std::to_string(h.request_id) + ", stream " + std::to_string(h.stream_id) + ")";
}

std::string_view input_stream_state_name(InputStreamState s) {
  switch (s) {
    case InputStreamState::Fresh: return "fresh";
    case InputStreamState::SettingsReceiving: return "settings-receiving";
    case InputStreamState::Configured: return "configured";
    case InputStreamState::Plain: return "plain";
  }
  return "plain";
}

std::string_view stream_error_name(StreamError e) {
  switch (e) {
    case StreamError::None: return "";
    case StreamError::WrongParity: return "wrong-stream-parity";
    case StreamError::UndefinedStreamFlags: return "undefined-stream-flags";
    case StreamError::NotOpen: return "stream-not-open";
    case StreamError::AlreadyOpen: return "stream-already-open";
    case StreamError::TooManyStreams: return "too-many-streams";
    case StreamError::InsideSettings: return "frame-inside-stream-settings";
    case StreamError::SettingsRepeated: return "stream-settings-repeated";
    case StreamError::SettingsAfterFrames: return "stream-settings-after-frames";
    case StreamError::SettingsEncoded: return "stream-settings-encoded";
    case StreamError::SettingsFlags: return "stream-settings-flags";
    case StreamError::SettingsTooLarge: return "stream-settings-too-large";
    case StreamError::EndInsideSettings: return "stream-end-inside-settings";
    case StreamError::SettingsInvalid: return "stream-settings-invalid";
    case StreamError::EncodedWithoutSettings: return "encoded-without-stream-settings";
    case StreamError::DecodeFailed: return "stream-decode-failed";
  }
  return "";
}

namespace {

enum class StreamEvent : std::uint8_t { SettingsContinuation, SettingsEos, Other };

struct StreamCell {
  InputStreamState next;
  StreamError error = StreamError::None;
};

using St = InputStreamState;
using SE = StreamError;
// Rows: InputStreamState; columns: StreamEvent. The header's table.
constexpr StreamCell kInputStreamTransitions[4][3] = {
    /* fresh */ {{St::SettingsReceiving}, {St::Configured}, {St::Plain}},
    /* settings-receiving */ {{St::SettingsReceiving}, {St::Configured}, {St::SettingsReceiving, SE::InsideSettings}},
    /* configured */ {{St::Configured, SE::SettingsRepeated}, {St::Configured, SE::SettingsRepeated}, {St::Configured}},
    /* plain */ {{St::Plain, SE::SettingsAfterFrames}, {St::Plain, SE::SettingsAfterFrames}, {St::Plain}},
};

}  // namespace

struct InputStreams::Stream {
  InputStreamState state = InputStreamState::Fresh;
  Bytes settings;  // accumulated stream-settings payload
  std::unique_ptr<Decoder> decoder;
};

InputStreams::InputStreams(bool client_side, InputStreamLimits limits)
    : client_side_(client_side), limits_(limits) {}
InputStreams::~InputStreams() = default;
InputStreams::InputStreams(InputStreams&&) noexcept = default;
InputStreams& InputStreams::operator=(InputStreams&&) noexcept = default;

std::optional<std::uint8_t> InputStreams::stream_with_pending_settings() const {
  for (const auto& [id, s] : open_) {
    if (s->state == InputStreamState::SettingsReceiving) return id;
  }
  return std::nullopt;
}

std::optional<InputStreamState> InputStreams::state_of(std::uint8_t stream_id) const {
  auto it = open_.find(stream_id);
  if (it == open_.end()) return std::nullopt;
  return it->second->state;
}

std::optional<Encoding> InputStreams::encoding_of(std::uint8_t stream_id) const {
  auto it = open_.find(stream_id);
  if (it == open_.end() || !it->second->decoder) return std::nullopt;
  return it->second->decoder->encoding();
}

Result<std::optional<Frame>> InputStreams::accept(std::size_t index, const Frame& frame) {
  const FrameHeader& h = frame.header;
  auto bad = [&](StreamError e, const std::string& what) {
    return fail(stream_error_name(e), describe_frame(index, h) + ": " + what);
  };
  const std::string sid = std::to_string(h.stream_id);
  const bool odd = (h.stream_id % 2) == 1;
  if (odd != client_side_) {
    return bad(SE::WrongParity, "stream id " + sid + " is " + (odd ? "odd" : "even") + "; " +
                                    (client_side_ ? "client" : "server") + " streams are " +
                                    (client_side_ ? "odd" : "even"));
  }
  if (h.stream_flags & ~stream_flags::kAll) {
    return bad(SE::UndefinedStreamFlags,
               "undefined stream flags " + hex_byte(static_cast<std::uint8_t>(h.stream_flags & ~stream_flags::kAll)));
  }
  const bool begin = h.stream_flags & stream_flags::kBegin;
  const bool end = h.stream_flags & stream_flags::kEnd;
  const bool encoded = h.stream_flags & stream_flags::kEncoded;

  auto it = open_.find(h.stream_id);
  if (it == open_.end()) {
    if (!begin) return bad(SE::NotOpen, "stream " + sid + " is not open and the frame lacks the stream-begin flag");
    if (open_.size() >= limits_.max_open_streams) {
      return bad(SE::TooManyStreams, "too many open streams (limit " + std::to_string(limits_.max_open_streams) + ")");
    }
    it = open_.emplace(h.stream_id, std::make_unique<Stream>()).first;
  } else if (begin) {
    return bad(SE::AlreadyOpen, "stream-begin flag on stream " + sid + ", which is already open");
  }
  Stream& s = *it->second;

  const bool is_settings = h.type == static_cast<std::uint8_t>(FrameType::StreamSettings);
  const StreamEvent event = !is_settings                              ? StreamEvent::Other
                            : (h.flags & settings_flags::kContinuation) ? StreamEvent::SettingsContinuation
                                                                        : StreamEvent::SettingsEos;
  const StreamCell cell =
      kInputStreamTransitions[static_cast<std::size_t>(s.state)][static_cast<std::size_t>(event)];
  switch (cell.error) {
    case SE::None: break;
    case SE::InsideSettings:
      return bad(cell.error, "frame on stream " + sid + " while its stream settings are incomplete");
    case SE::SettingsRepeated:
      return bad(cell.error, "stream-settings frame on stream " + sid + ", which already carried its stream settings");
    default:
      return bad(cell.error, "stream-settings frame on stream " + sid + ", which already carried other frames");
  }

  if (is_settings) {
    if (encoded) return bad(SE::SettingsEncoded, "stream-settings frame has the encoded flag");
    const bool cont = h.flags & settings_flags::kContinuation;
    const bool eos = h.flags & settings_flags::kEos;
    if (cont && eos) return bad(SE::SettingsFlags, "stream-settings frame has both continuation and eos flags");
    if (!cont && !eos) return bad(SE::SettingsFlags, "stream-settings frame has neither continuation nor eos flag");
    if (h.flags & ~(settings_flags::kContinuation | settings_flags::kEos)) {
      return bad(SE::SettingsFlags, "undefined flags for stream-settings");
    }
    if (s.settings.size() + frame.payload.size() > limits_.max_settings_bytes) {
      return bad(SE::SettingsTooLarge, "stream settings exceed " + std::to_string(limits_.max_settings_bytes) + " bytes");
    }
    append(s.settings, frame.payload);
    if (cont) {
      if (end) return bad(SE::EndInsideSettings, "stream ended inside its stream settings");
      s.state = cell.next;
      return std::optional<Frame>{};
    }
    auto values = cbor_decode_all(s.settings);
    if (!values) return bad(SE::SettingsInvalid, "stream settings are not valid CBOR: " + values.error().message);
    if (values->empty()) return bad(SE::SettingsInvalid, "stream settings contain no CBOR value");
    const json& name = (*values)[0];
    if (!name.is_binary()) return bad(SE::SettingsInvalid, "stream settings profile name is not a byte string");
    const std::string profile(name.get_binary().begin(), name.get_binary().end());
    auto enc = encoding_from_name(profile);
    if (!enc) return bad(SE::SettingsInvalid, "unknown stream encoding profile '" + profile + "'");
    if (values->size() > 1) {
      return bad(SE::SettingsInvalid, "stream settings for " + profile + " have " +
                                          std::to_string(values->size() - 1) + " unexpected extra value(s)");
    }
    s.decoder = make_decoder(*enc, limits_.decoder);
    s.settings.clear();
    s.settings.shrink_to_fit();
    s.state = cell.next;
    if (end) open_.erase(h.stream_id);
    return std::optional<Frame>{};
  }

  s.state = cell.next;
  Frame out = frame;
  if (encoded) {
    if (!s.decoder) {
      return bad(SE::EncodedWithoutSettings, "encoded flag on stream " + sid + ", which has no stream settings");
    }
    decoded_.clear();
    auto r = s.decoder->decode(frame.payload, decoded_);
    if (!r) return bad(SE::DecodeFailed, r.error().message);
    out.payload = decoded_;
  }
  if (end) open_.erase(h.stream_id);
  return std::optional<Frame>{out};
}

std::string_view output_stream_state_name(OutputStreamState s) {
  switch (s) {
    case OutputStreamState::Fresh: return "fresh";
    case OutputStreamState::Open: return "open";
    case OutputStreamState::Failed: return "failed";
  }
  return "?";
}

std::string_view output_stream_error_name(OutputStreamError e) {
  switch (e) {
    case OutputStreamError::WrongStream: return "wrong-stream";
    case OutputStreamError::FrameTooLarge: return "frame-too-large";
    case OutputStreamError::UnsplittableFrame: return "unsplittable-frame";
    case OutputStreamError::CannotSplice: return "cannot-splice";
    case OutputStreamError::EncoderFailed: return "encoder-failed";
    case OutputStreamError::StreamFailed: return "stream-failed";
  }
  return "?";
}

OutputStream::OutputStream(std::uint8_t id, std::unique_ptr<Encoder> encoder,
                           std::size_t max_frame_size)
    : id_(id), encoder_(std::move(encoder)), max_frame_size_(std::max(max_frame_size, kMinFrameSize)) {}

std::optional<Encoding> OutputStream::encoding() const {
  if (!encoder_) return std::nullopt;
  return encoder_->encoding();
}

hgrpc::unexpected<Error> OutputStream::refuse(OutputStreamError e, const std::string& detail) {
  last_error_ = e;
  if (e == OutputStreamError::EncoderFailed) state_ = OutputStreamState::Failed;
  return fail(std::string(output_stream_error_name(e)) + ": output stream " + std::to_string(id_) +
              ": " + detail);
}

template <class Out>
void OutputStream::emit(std::uint16_t request_id, FrameType type, std::uint8_t flags,
                        std::uint8_t sflags, ByteView payload, Out& out, ByteView more) {
  if (state_ == OutputStreamState::Fresh) {
    sflags |= stream_flags::kBegin;
    state_ = OutputStreamState::Open;
  }
  FrameHeader h;
  h.request_id = request_id;
  h.stream_id = id_;
  h.stream_flags = sflags;
  h.type = static_cast<std::uint8_t>(type);
  h.flags = flags;
  append_frame(out, h, payload, more);
}

Result<std::size_t> OutputStream::render(const PlannedFrame& f, Bytes& out) { return render_into(f, out); }
Result<std::size_t> OutputStream::render(const PlannedFrame& f, WireBytes& out) { return render_into(f, out); }

template <class Out>
Result<std::size_t> OutputStream::render_into(const PlannedFrame& f, Out& out) {
  if (state_ == OutputStreamState::Failed) {
    return refuse(OutputStreamError::StreamFailed, "an earlier encoder error left it unusable");
  }
  if (f.stream_id != id_) {
    return refuse(OutputStreamError::WrongStream,
                  "given a planned frame for stream " + std::to_string(f.stream_id));
  }
  const bool splice = !f.spliced.empty();
  if (splice && (!encoder_ || !encoder_->splices_frames() || !f.encode || f.type != FrameType::CommandResponse)) {
    return refuse(OutputStreamError::CannotSplice,
                  std::to_string(f.spliced.size()) + " pre-encoded bytes for a stream encoded as " +
                      (encoder_ ? std::string(encoding_name(encoder_->encoding())) : std::string("nothing")) +
                      ", which cannot take them");
  }
  const bool raw = !splice && (!f.encode || !encoder_ || f.payload.empty());
  if (raw && f.payload.size() > max_frame_size_) {
    return refuse(OutputStreamError::FrameTooLarge,
                  "planned frame of " + std::to_string(f.payload.size()) +
                      " bytes exceeds the max frame size " + std::to_string(max_frame_size_));
  }
  if (!raw) {
    scratch_.clear();
    auto r = splice ? encoder_->end_frame(f.payload, scratch_) : encoder_->encode(f.payload, scratch_);
    if (!r) return refuse(OutputStreamError::EncoderFailed, r.error().message);
    if (scratch_.size() > max_frame_size_ && f.type != FrameType::CommandResponse &&
        f.type != FrameType::CommandData && f.type != FrameType::CommandRequest) {
      return refuse(OutputStreamError::UnsplittableFrame,
                    "encoded " + std::string(frame_type_name(static_cast<std::uint8_t>(f.type))) +
                        " payload of " + std::to_string(scratch_.size()) + " bytes cannot be split");
    }
  }
  last_error_.reset();
  std::size_t frames = 0;
  if (encoder_ && state_ == OutputStreamState::Fresh) {
    Bytes settings;
    cbor_encode(cbor_bytes(encoding_name(encoder_->encoding())), settings);
    emit(f.request_id, FrameType::StreamSettings, settings_flags::kEos, 0, settings, out);
    ++frames;
  }
  if (raw || (scratch_.empty() && !splice)) {  // empty: nothing to send yet; keep the frame for its flags
    emit(f.request_id, f.type, f.flags, 0, raw ? ByteView(f.payload) : ByteView(scratch_), out);
    return frames + 1;
  }
  // Flags of part i of a split frame: the series keeps going on every part
  // but the last, which keeps the planned flags.
  auto part_flags = [&](bool first, bool last) -> std::uint8_t {
    if (f.type != FrameType::CommandRequest) {
      return last ? f.flags : command_response_flags::kContinuation;  // same bit for data
    }
    std::uint8_t fl = f.flags;
    if (!first) {
      fl = static_cast<std::uint8_t>((fl & ~command_request_flags::kNew) |
                                     command_request_flags::kContinuation);
    }
    if (!last) fl |= command_request_flags::kMore;
    return fl;
  };
  // The encoded payload, then the spliced bytes (not copied together): cut
  // into frames of at most max_frame_size.
  ByteView rest = scratch_;
  ByteView spliced = f.spliced.view();
  bool first = true;
  while (rest.size() + spliced.size() > max_frame_size_) {
    const std::size_t a = std::min(rest.size(), max_frame_size_);
    const std::size_t b = max_frame_size_ - a;
    emit(f.request_id, f.type, part_flags(first, false), stream_flags::kEncoded, rest.first(a), out,
         spliced.first(b));
    rest = rest.subspan(a);
    spliced = spliced.subspan(b);
    first = false;
    ++frames;
  }
  emit(f.request_id, f.type, part_flags(first, true), stream_flags::kEncoded, rest, out, spliced);
  return frames + 1;
}

OutputStream& OutputStreamSet::add(OutputStream s) {
  const auto id = s.id();
  streams_.erase(id);
  return streams_.emplace(id, std::move(s)).first->second;
}

OutputStream* OutputStreamSet::find(std::uint8_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

Result<std::size_t> OutputStreamSet::render(std::span<const PlannedFrame> planned, Bytes& out) {
  std::size_t frames = 0;
  for (const auto& f : planned) {
    OutputStream* s = find(f.stream_id);
    if (!s) return fail("no output stream " + std::to_string(f.stream_id));
    auto r = s->render(f, out);
    if (!r) return r;
    frames += *r;
  }
  return frames;
}

}  // namespace hgrpc::framing
