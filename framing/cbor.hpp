#pragma once
// CBOR (RFC 8949) as the protocol uses it, with nlohmann::json as the value.
//
// Value mapping:
//   unsigned / negative integer  <-> json number_unsigned / number_integer
//   byte string                  <-> json::binary (no subtype)
//   text string                  <-> json string
//   array, tag 258 (set)         <-> json array  (a set decodes to an array)
//   map                          <-> json object (keys: byte or text strings on
//                                    input; always emitted as byte strings,
//                                    as Mercurial peers expect)
//   true / false / null          <-> json boolean / null
// Floats, other tags and other simple values are rejected by the decoder.
// Decoded text strings must be valid UTF-8 (json can only dump valid UTF-8);
// byte-string map keys are taken as they are. Duplicate map keys (a byte and
// a text key with the same bytes count as duplicates) are an error.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "framing/bytes.hpp"
#include "framing/result.hpp"

namespace hgrpc::framing {

using json = nlohmann::json;

// A byte-string value (json::binary), the usual way to build protocol values:
// cbor_bytes("ok") encodes as the CBOR byte string "ok".
json cbor_bytes(std::string_view s);
json cbor_bytes(ByteView b);

// Values json cannot express (CBOR tags) travel as pre-encoded CBOR: a
// json::binary with this reserved subtype is written by cbor_encode verbatim.
// The decoder never produces one (a decoded set is a plain array).
inline constexpr std::uint8_t kPreEncodedCborSubtype = 0xCB;
json cbor_pre_encoded(Bytes encoded);
// A CBOR set (tag 258 over an array) of the given items, in their order.
json cbor_set(const json& items);

// Appends the CBOR encoding of v to out. Object keys become byte strings.
// Floats (never part of the protocol, and rejected by the decoder) are a
// programmer error: std::logic_error.
void cbor_encode(const json& v, Bytes& out);
Bytes cbor_encode(const json& v);

// Pieces for streaming a large byte string as an indefinite-length byte
// string: header, then any number of chunks, then the break byte.
void cbor_append_indefinite_bytes_begin(Bytes& out);
void cbor_append_bytes_chunk(ByteView chunk, Bytes& out);  // one definite chunk
void cbor_append_break(Bytes& out);
// The head of a definite-length byte string of `length` bytes; the bytes
// follow, written by the caller (in as many pieces as it likes).
void cbor_append_bytes_head(std::uint64_t length, Bytes& out);
// Pieces for writers that encode a value without building a json (hot
// paths: one record per revision). Map keys are byte strings, as above.
void cbor_append_bytes(ByteView b, Bytes& out);
void cbor_append_uint(std::uint64_t v, Bytes& out);
void cbor_append_array_head(std::uint64_t items, Bytes& out);
void cbor_append_map_head(std::uint64_t pairs, Bytes& out);

struct CborLimits {
  std::size_t max_depth = 64;                    // nesting of arrays and maps
  std::size_t max_string_bytes = 256u << 20;     // one byte/text string (after joining chunks)
  std::size_t max_container_items = 1u << 20;    // elements of one array or map
};

// Incremental decoder: feed chunks of any size (down to one byte); complete
// top-level values become available as soon as their last byte arrives. Runs
// in time linear in the input, never preallocates from declared lengths, and
// reports malformed input as an Error naming the byte offset.
class CborDecoder {
 public:
  explicit CborDecoder(CborLimits limits = {});
  ~CborDecoder();
  CborDecoder(CborDecoder&&) noexcept;
  CborDecoder& operator=(CborDecoder&&) noexcept;

  // Consumes all of chunk. After an error the decoder stays failed.
  Result<void> feed(ByteView chunk);
  // Next completed top-level value, in order.
  std::optional<json> next();
  // Number of completed values waiting to be taken by next().
  std::size_t available() const;
  // True when no partially decoded value is pending (a clean value boundary).
  bool at_boundary() const;
  // Total bytes consumed by completed values so far.
  std::uint64_t bytes_consumed() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Decodes exactly the values in data (a CBOR sequence). Errors if data ends
// inside a value.
Result<std::vector<json>> cbor_decode_all(ByteView data, CborLimits limits = {});

// Decodes data that must hold exactly one CBOR value. Errors read
// "<subject> is not valid CBOR: ..." or "<subject> holds 2 CBOR values;
// expected <expected>" ("are"/"hold" for a plural subject).
struct CborSubject {
  std::string_view name;             // "payload", "sender protocol settings"
  bool plural = false;
  std::string_view expected = "one";  // "one map"
};
Result<json> cbor_decode_one(ByteView data, const CborSubject& subject, CborLimits limits = {});

// The bytes of a CBOR byte string or text string (peers send either where
// the protocol says "bytes"); nullopt for any other value. The view lives
// as long as v; bytes_or_text copies.
std::optional<ByteView> bytes_or_text_view(const json& v);
std::optional<std::string> bytes_or_text(const json& v);

// Strict UTF-8 check (RFC 3629: no overlong forms, surrogates or code points
// above U+10FFFF); decoded text strings must pass it, as nlohmann::json needs
// valid UTF-8 to dump them.
bool is_valid_utf8(std::string_view s);

}  // namespace hgrpc::framing
