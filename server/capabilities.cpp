#include "server/capabilities.hpp"

#include "framing/content_encoding.hpp"
#include "server/command_registry.hpp"

namespace hgrpc::server {

using framing::cbor_bytes;

framing::json capabilities_map(const CommandRegistry& registry, const CommandLimits& limits) {
  json encodings = json::array();
  for (framing::Encoding e : framing::kEncodingPreference)
    encodings.push_back(cbor_bytes(framing::encoding_name(e)));
  return json{
      {"commands", registry.commands_capability()},
      {"framingmediatypes", json::array({cbor_bytes(kFramingMediaType)})},
      {"contentencodings", std::move(encodings)},
      {"limits",
       {{"maxframesize", limits.max_frame_size},
        {"maxbodybytes", limits.max_body_bytes},
        {"maxoutputbytes", limits.max_output_bytes}}},
      // Sent as Mercurial's server sends them; its 5.8 client reads neither.
      // Empty: hgrpcd serves neither file paths nor a store.
      {"pathfilterprefixes", json::array()},
      {"rawrepoformats", json::array()},
  };
}

}  // namespace hgrpc::server
