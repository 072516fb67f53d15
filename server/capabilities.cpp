#include "server/capabilities.hpp"

#include "framing/content_encoding.hpp"
#include "server/command_registry.hpp"

namespace hgrpc::server {

using framing::cbor_bytes;

framing::json capabilities_map(const CommandRegistry& registry, const CommandLimits& limits) {
  json encodings = json::array();
  for (framing::Encoding e : framing::kMercurialEncodings)
    encodings.push_back(cbor_bytes(framing::encoding_name(e)));
  json map{
      {"commands", registry.commands_capability()},
      {"framingmediatypes", json::array({cbor_bytes(kFramingMediaType)})},
      {"contentencodings", std::move(encodings)},
      {"limits",
       {{"maxframesize", limits.max_frame_size},
        {"maxbodybytes", limits.max_body_bytes},
        {"maxoutputbytes", limits.max_output_bytes}}},
      // Sent as Mercurial's server sends them; its 5.8 client reads neither.
      // Empty unless a repository is served (its registry overrides them).
      {"pathfilterprefixes", json::array()},
      {"rawrepoformats", json::array()},
  };
  for (const auto& [key, value] : registry.descriptor_overrides().items()) map[key] = value;
  return map;
}

}  // namespace hgrpc::server
