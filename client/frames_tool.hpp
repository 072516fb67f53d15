#pragma once
// `hgrpc frames decode` / `hgrpc frames encode`: framed bodies (request or
// response) to human frame notation and back.
//
// decode prints one line per frame in Mercurial's human notation, with the
// payload exactly as it travelled (so encode(decode(body)) == body, encoded
// streams included), and `#` note lines, which encode ignores:
//   # stream 2: zstd-8mb                     after a stream-settings frame
//   #   decoded: cbor:{b'status': b'ok'}     an encoded frame's decoded payload
//   # request 1 value: cbor:...              each CBOR value of a command request,
//   # request 1 data: b'...'                 its command data, and each response
//   # request 1 end                          value, once complete (values spanning
//                                            frames are reassembled)
// Notes longer than 4096 characters are cut ("... (N more characters)").
// values mode prints instead one JSON line per request: {"request_id": 1,
// "values": [...]} (request bodies: the request map, then the data as one
// byte string if any; response bodies: every value of the response, status map
// included), or {"request_id": 1, "error": {...}} for an error-response frame.
#include <string>
#include <string_view>

#include "client/errors.hpp"
#include "client/json_value.hpp"
#include "framing/bytes.hpp"
#include "framing/frame.hpp"

namespace hgrpc::client {

struct FramesDecodeOptions {
  bool values = false;
  BytesStyle bytes_style = BytesStyle::Tagged;
  std::size_t max_payload = framing::kMaxPayloadWireLimit;  // accept any legal frame
};

// Errors are protocol errors naming the frame. A malformed frame or payload
// stops decoding: `partial` holds the text so far. A stream rule broken
// (e.g. no stream-begin on a new stream) is noted as "# error: ..." in place
// and decoding goes on: `partial` then holds the whole text, the error is the
// first such note.
struct FramesDecodeError {
  ClientError error;
  std::string partial;
};

hgrpc::expected<std::string, FramesDecodeError> decode_frames(framing::ByteView body,
                                                              const FramesDecodeOptions& options);

// Human notation lines (blank lines and # comments skipped) to body bytes.
// Errors name the line; they are usage errors (the input is the user's).
ClientResult<framing::Bytes> encode_frames(std::string_view text);

}  // namespace hgrpc::client
