#pragma once
// Protocol values (CBOR as framing/cbor.hpp maps it onto nlohmann::json) to and
// from the JSON the command-line client prints and reads.
//
// Output: a byte string becomes {"$bytes": "<base64>"} (BytesStyle::Tagged,
// the default: unambiguous and lossless), or with BytesStyle::Text a plain
// JSON string when it is valid UTF-8 (else still {"$bytes": ...}). Text
// strings, integers, booleans, null, arrays and maps map as themselves. Map
// keys are byte strings on the wire; a key that is not valid UTF-8 prints as
// "$bytes:<base64>".
//
// Input (--args-json, batch lines): a JSON string becomes a BYTE string
// (command arguments are byte strings in this protocol); {"$bytes": "<base64>"}
// a byte string of arbitrary bytes; {"$text": "..."} a CBOR text string;
// integers, booleans, null, arrays and objects as themselves; other numbers
// are rejected.
#include <string>
#include <string_view>

#include "framing/cbor.hpp"
#include "framing/result.hpp"

namespace hgrpc::client {

using framing::json;

enum class BytesStyle { Tagged, Text };

json to_output_json(const json& value, BytesStyle style = BytesStyle::Tagged);
// Compact one-line JSON of to_output_json(value, style).
std::string render_json(const json& value, BytesStyle style = BytesStyle::Tagged);

// `where` prefixes error messages, e.g. "--args-json" or "line 3".
framing::Result<json> from_input_json(const json& in, std::string_view where);

// The framing library's strict check (RFC 3629), the one the CBOR decoder applies.
using framing::is_valid_utf8;

}  // namespace hgrpc::client
