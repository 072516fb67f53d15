#pragma once
// The subset of Python literal syntax that Mercurial's human frame notation
// uses for payloads (cbor:{b'name': b'capabilities'}), to and from CBOR values.
//
// Accepted: dicts {k: v, ...}, lists [...], tuples (...) (as lists), sets
// {a, b} (as lists), bytes b'..' / b"..", str '..' / "..", ints (decimal,
// negative, 0x hex), True, False, None; escapes \\ \' \" \n \r \t \0 \xNN in
// bytes, plus \uNNNN in str. Whitespace is free between tokens.
#include <cstddef>
#include <string>
#include <string_view>

#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "framing/result.hpp"

namespace hgrpc::framing {

// bytes -> json::binary, str -> json string, dict keys (bytes or str) -> string.
// Errors name the byte position in text. Lists, dicts and sets nest at most
// max_depth deep. Duplicate dict keys are an error (Python would keep the
// last). Octal escapes \N, \NN, \NNN are accepted as Python does; unknown
// escapes are an error. str literals must be valid UTF-8, bytes literals ASCII.
Result<json> parse_python_literal(std::string_view text, std::size_t max_depth = 64);

// Prints a value in the same syntax: binary as b'..', string as '..', object
// keys as b'..' (they are byte strings on the wire), keys in sorted order.
std::string format_python_literal(const json& v);

// b'...' style escaping of raw bytes (without the b'' quotes): printable ASCII
// as is, \\ and \' escaped, the rest as \xNN, \n \r \t, or \0 where shorter
// (not before an octal digit, which would make it an octal escape).
std::string escape_bytes(ByteView b);
// Inverse of escape_bytes, for payloads given as byte literals.
Result<Bytes> unescape_bytes(std::string_view text);

}  // namespace hgrpc::framing
