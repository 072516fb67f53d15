#pragma once
// Mercurial's human frame notation, one frame per line:
//
//   <request-id> <stream-id> <stream-flags> <type> <flags> <payload>
//   1 1 stream-begin command-request new cbor:{b'name': b'heads'}
//
// Ids are integers. Stream flags, type and flags are names or integers
// (decimal or 0x hex), several joined with '|'; "0" means no flags. The first
// five fields are separated by runs of spaces or tabs; the payload is the rest
// of the line after one separator (it may contain spaces, and may be absent:
// empty). A payload "cbor:<python literal>" is the CBOR encoding of that
// value; any other payload is the body of a Python bytes literal (\x00, \n..).
#include <optional>
#include <string>
#include <string_view>

#include "framing/bytes.hpp"
#include "framing/frame.hpp"
#include "framing/result.hpp"

namespace hgrpc::framing {

// Errors name the field ("stream flags: unknown flag 'stream-bgin' ...").
Result<OwnedFrame> parse_human_frame(std::string_view line);

struct FormatOptions {
  // Print the payload as cbor:<literal> when it is exactly one CBOR value
  // whose literal parses and re-encodes to the very same bytes; otherwise
  // (and always when false) as an escaped bytes literal.
  bool decode_cbor = true;
};

// Names for known types and flags, "0" for no flags, unknown bits as decimal
// integers (one per bit), unknown types as a decimal integer.
// parse_human_frame(format_human_frame(f)) gives f back byte for byte.
std::string format_human_frame(const Frame& f, const FormatOptions& options = {});

// "cbor:<literal>" when payload is exactly one CBOR value whose literal
// parses and re-encodes to the very same bytes; nullopt otherwise. The
// payload printer of format_human_frame and of hgrpc's frames tool.
std::optional<std::string> format_cbor_notation(ByteView payload);

// Frames of a text, one per line; blank lines and lines whose first
// non-blank character is '#' are skipped; a trailing '\r' is ignored. Errors
// name the line (from 1).
Result<Bytes> parse_human_frames(std::string_view text);

}  // namespace hgrpc::framing
