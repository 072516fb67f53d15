#pragma once
// Incremental frame reader: body bytes in, frames out, in the manner of
// picohttpparser. No allocation for frames that arrive whole in one chunk
// (their payload is a view into that chunk); a frame that straddles chunks is
// assembled in one internal buffer. "Need more bytes" is an ordinary answer.
//
//   FrameReader r;
//   r.feed(chunk);
//   while (auto f = r.next()) { if (!*f) break; use(**f); }   // until nullopt
//   ... at end of body: r.finish()
//
// Frames are numbered from 0 in body order; offsets count body bytes from 0.
// The reader checks the declared length against the maximum and nothing else:
// types, flags and ids belong to the reactors.
//
// States and transitions (kReaderTransitions in frame_reader.cpp):
//
//   state \ event  feed                   next: frame  next: need more  next: too large  finish
//   -------------  ---------------------  -----------  ---------------  ---------------  ---------------------
//   drained        reading (drained if    -            drained          -                drained; error
//                  the chunk is empty)                                                   body-ends-inside-frame
//                                                                                        if a frame is cut
//   reading        ERR feed-before-       reading      drained          failed           ERR frames-left-unread
//                  drained (logic_error)
//   failed         failed (input ignored) -            -                failed (same)    failed (same error)
//
// A frame straddling chunks is assembled in partial_ whatever the state; that
// buffer's ownership (a frame returned from it stays valid until the next
// feed) is a memory detail, not a protocol state.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "framing/bytes.hpp"
#include "framing/frame.hpp"
#include "framing/result.hpp"

namespace hgrpc::framing {

enum class ReaderState : std::uint8_t { Drained, Reading, Failed };
std::string_view reader_state_name(ReaderState s);

// The named errors of the frame reader (Error::name is reader_error_name(e)).
enum class ReaderError : std::uint8_t {
  None,
  FrameTooLarge,        // a declared length over max_payload
  BodyEndsInsideFrame,  // finish() with a frame cut off
  FramesLeftUnread,     // finish() before next() answered nullopt (caller bug)
  FeedBeforeDrained,    // feed() before next() answered nullopt (caller bug: logic_error)
};
std::string_view reader_error_name(ReaderError e);

class FrameReader {
 public:
  explicit FrameReader(std::size_t max_payload = kDefaultMaxPayload);

  // Hands the reader the next chunk of the body. Call next() until it returns
  // nullopt (or an error) before feeding again: feeding earlier is a
  // programmer error (std::logic_error). The reader keeps no pointer into the
  // chunk once next() has answered nullopt (it copies the start of an
  // unfinished frame), so the chunk may then be discarded; frames viewing it
  // go with it. Views into the reader's own buffer stay valid until the next
  // feed(). After an error, feed() ignores its input.
  void feed(ByteView chunk);

  // The next complete frame; nullopt when more bytes are needed. A declared
  // length over the maximum is an error as soon as the header is complete.
  // After an error the reader stays failed and returns the same error.
  Result<std::optional<Frame>> next();

  // Call at the end of the body, after next() answered nullopt: an error if
  // the body ended inside a frame ("body ends inside frame 4 at body offset
  // 40: 3 of 8 header bytes"), or the reader's error if it failed.
  Result<void> finish() const;

  // True when no partial frame is pending (neither buffered nor in the chunk).
  bool at_frame_boundary() const;

  ReaderState state() const { return state_; }
  std::size_t max_payload() const { return max_payload_; }
  // Frames returned so far; the last one returned has index frames_read() - 1.
  std::uint64_t frames_read() const { return frames_; }
  // Body offset of the last frame returned (its first header byte).
  std::uint64_t last_frame_offset() const { return last_offset_; }
  // Body bytes in the frames returned so far: the offset of the next frame.
  std::uint64_t bytes_read() const { return offset_; }
  // Body bytes given to feed() so far.
  std::uint64_t bytes_fed() const { return fed_; }

 private:
  Result<std::optional<Frame>> next_from_partial();
  Result<std::optional<Frame>> need_more();
  Result<void> check_length(const FrameHeader& h);
  Frame complete(const FrameHeader& h, const std::uint8_t* start);

  std::size_t max_payload_;
  ByteView chunk_;
  std::size_t pos_ = 0;   // next unread byte of chunk_
  Bytes partial_;         // the prefix of one frame that straddles chunks
  Bytes carry_;           // saved from the chunk for partial_ at the next feed
  bool partial_returned_ = false;  // partial_ holds a frame already returned
  ReaderState state_ = ReaderState::Drained;
  std::optional<Error> error_;  // set in state failed
  std::uint64_t frames_ = 0;
  std::uint64_t offset_ = 0;
  std::uint64_t last_offset_ = 0;
  std::uint64_t fed_ = 0;
};

}  // namespace hgrpc::framing
