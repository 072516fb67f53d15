#include "framing/frame_reader.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace hgrpc::framing {

std::string_view reader_state_name(ReaderState s) {
  switch (s) {
    case ReaderState::Drained: return "drained";
    case ReaderState::Reading: return "reading";
    case ReaderState::Failed: return "failed";
  }
  return "failed";
}

std::string_view reader_error_name(ReaderError e) {
  switch (e) {
    case ReaderError::None: return "";
    case ReaderError::FrameTooLarge: return "frame-too-large";
    case ReaderError::BodyEndsInsideFrame: return "body-ends-inside-frame";
    case ReaderError::FramesLeftUnread: return "frames-left-unread";
    case ReaderError::FeedBeforeDrained: return "feed-before-drained";
  }
  return "";
}

namespace {

enum class ReaderEvent : std::uint8_t { Feed, FeedEmpty, Frame, NeedMore, TooLarge, Finish };

struct ReaderCell {
  ReaderState next;
  ReaderError error = ReaderError::None;
};

using RS = ReaderState;
using RE = ReaderError;
// Rows: ReaderState; columns: ReaderEvent. The header's table; the cells no
// caller can reach (a frame out of a failed reader) keep the state.
constexpr ReaderCell kReaderTransitions[3][6] = {
    /* drained */ {{RS::Reading}, {RS::Drained}, {RS::Reading}, {RS::Drained}, {RS::Failed}, {RS::Drained}},
    /* reading */
    {{RS::Reading, RE::FeedBeforeDrained}, {RS::Reading, RE::FeedBeforeDrained}, {RS::Reading}, {RS::Drained},
     {RS::Failed}, {RS::Reading, RE::FramesLeftUnread}},
    /* failed */ {{RS::Failed}, {RS::Failed}, {RS::Failed}, {RS::Failed}, {RS::Failed}, {RS::Failed}},
};

constexpr ReaderCell reader_cell(ReaderState s, ReaderEvent e) {
  return kReaderTransitions[static_cast<std::size_t>(s)][static_cast<std::size_t>(e)];
}

std::string frame_label(std::uint64_t index, std::uint64_t offset) {
  return "frame " + std::to_string(index) + " at body offset " + std::to_string(offset);
}

}  // namespace

FrameReader::FrameReader(std::size_t max_payload) : max_payload_(max_payload) {}

void FrameReader::feed(ByteView chunk) {
  const ReaderCell cell = reader_cell(state_, chunk.empty() ? ReaderEvent::FeedEmpty : ReaderEvent::Feed);
  if (cell.error == RE::FeedBeforeDrained) {
    throw std::logic_error("FrameReader::feed: call next() until it returns nullopt first");
  }
  if (state_ == RS::Failed) return;
  if (!carry_.empty()) {
    // The start of a frame that next() saved from the old chunk. Swapping
    // keeps both buffers' capacity for reuse.
    partial_.swap(carry_);
    carry_.clear();
    partial_returned_ = false;
  } else if (partial_returned_) {
    partial_.clear();
    partial_returned_ = false;
  }
  chunk_ = chunk;
  pos_ = 0;
  fed_ += chunk.size();
  state_ = cell.next;
}

Result<std::optional<Frame>> FrameReader::need_more() {
  // The chunk may be gone after this call returns to the caller, so the start
  // of an unfinished frame left in it is copied now. Not into partial_: it may
  // hold a frame just returned, whose view must stay valid until feed().
  if (pos_ < chunk_.size()) {
    carry_.assign(chunk_.begin() + static_cast<std::ptrdiff_t>(pos_), chunk_.end());
    pos_ = chunk_.size();
  }
  state_ = reader_cell(state_, ReaderEvent::NeedMore).next;
  return std::optional<Frame>();
}

Result<void> FrameReader::check_length(const FrameHeader& h) {
  if (h.length <= max_payload_) return {};
  error_ = Error{frame_label(frames_, offset_) + " (request " + std::to_string(h.request_id) +
                     ", stream " + std::to_string(h.stream_id) + "): payload length " +
                     std::to_string(h.length) + " exceeds the maximum frame size " +
                     std::to_string(max_payload_),
                 reader_error_name(RE::FrameTooLarge)};
  state_ = reader_cell(state_, ReaderEvent::TooLarge).next;
  return hgrpc::unexpected<Error>(*error_);
}

Frame FrameReader::complete(const FrameHeader& h, const std::uint8_t* start) {
  last_offset_ = offset_;
  offset_ += kFrameHeaderSize + h.length;
  ++frames_;
  // Frames come out only while reading, and the table keeps it reading: no
  // store on the hot path.
  static_assert(reader_cell(RS::Reading, ReaderEvent::Frame).next == RS::Reading);
  return Frame{h, ByteView(start + kFrameHeaderSize, h.length)};
}

Result<std::optional<Frame>> FrameReader::next() {
  if (state_ == RS::Failed) return hgrpc::unexpected<Error>(*error_);
  if (!partial_.empty() && !partial_returned_) return next_from_partial();

  // Fast path: the frame lies whole in the chunk; its payload is a view.
  const std::size_t avail = chunk_.size() - pos_;
  if (avail < kFrameHeaderSize) return need_more();
  const std::uint8_t* p = chunk_.data() + pos_;
  const FrameHeader h = decode_header(p);
  if (auto ok = check_length(h); !ok) return hgrpc::unexpected<Error>(ok.error());
  if (avail - kFrameHeaderSize < h.length) return need_more();
  pos_ += kFrameHeaderSize + h.length;
  return std::optional<Frame>(complete(h, p));
}

Result<std::optional<Frame>> FrameReader::next_from_partial() {
  auto take = [this](std::size_t want) {
    const std::size_t n = std::min(want, chunk_.size() - pos_);
    partial_.insert(partial_.end(), chunk_.begin() + static_cast<std::ptrdiff_t>(pos_),
                    chunk_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
  };
  if (partial_.size() < kFrameHeaderSize) {
    take(kFrameHeaderSize - partial_.size());
    if (partial_.size() < kFrameHeaderSize) return need_more();
  }
  const FrameHeader h = decode_header(partial_.data());
  if (auto ok = check_length(h); !ok) return hgrpc::unexpected<Error>(ok.error());
  // The length is bounded by max_payload, so reserving it all is safe.
  const std::size_t total = kFrameHeaderSize + h.length;
  partial_.reserve(total);
  take(total - partial_.size());
  if (partial_.size() < total) return need_more();
  partial_returned_ = true;
  return std::optional<Frame>(complete(h, partial_.data()));
}

bool FrameReader::at_frame_boundary() const {
  return (partial_.empty() || partial_returned_) && carry_.empty() && pos_ == chunk_.size();
}

Result<void> FrameReader::finish() const {
  if (state_ == RS::Failed) return hgrpc::unexpected<Error>(*error_);
  if (reader_cell(state_, ReaderEvent::Finish).error == RE::FramesLeftUnread) {
    // A caller bug; reported, not thrown, and without touching the chunk,
    // which may be gone.
    return fail(reader_error_name(RE::FramesLeftUnread),
                "FrameReader::finish: frames left unread (call next() until it returns nullopt)");
  }
  // Bytes of the unfinished frame: buffered, or left at the end of the chunk.
  ByteView rest = !carry_.empty()                            ? ByteView(carry_)
                  : (!partial_.empty() && !partial_returned_) ? ByteView(partial_)
                                                              : ByteView();
  if (rest.empty()) return {};
  std::string where = "body ends inside " + frame_label(frames_, offset_) + ": ";
  const auto name = reader_error_name(RE::BodyEndsInsideFrame);
  if (rest.size() < kFrameHeaderSize) {
    return fail(name, where + std::to_string(rest.size()) + " of " + std::to_string(kFrameHeaderSize) +
                " header bytes");
  }
  const FrameHeader h = decode_header(rest.data());
  return fail(name, where + std::to_string(rest.size() - kFrameHeaderSize) + " of " +
              std::to_string(h.length) + " payload bytes");
}

}  // namespace hgrpc::framing
