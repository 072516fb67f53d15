#pragma once
// `--arg` of `hgrpc call`: NAME[[]][:TYPE]=VALUE.
//
//   name=value          byte string (the UTF-8 bytes of value)
//   name=@path          byte string read from a file ("@-": stdin; "@@x": the text "@x")
//   name:int=-5         integer
//   name:bool=true      true / false
//   name:str=value      CBOR text string
//   name:b64=aGk=       byte string given in base64
//   name:json=JSON      any value, in the client's input JSON (see json_value.hpp)
//   name[]=value        appends an element (typed the same way) to list `name`
// `@path` works with every type: the value is then the file's contents.
#include <string_view>

#include "framing/cbor.hpp"
#include "framing/result.hpp"

namespace hgrpc::client {

// Parses one spec and stores the value into args (a JSON object).
framing::Result<void> apply_arg(std::string_view spec, framing::json& args);

}  // namespace hgrpc::client
