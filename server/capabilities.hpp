#pragma once
// The capabilities map, in the shape Mercurial's HTTP v2 peer reads
// (httppeer.httpv2peer: `commands` with `args` and `permissions`; `redirect`
// only when present) plus hgrpcd's own keys:
//
//   {b'commands':           {name: {b'args': {...}, b'permissions': [b'pull']}},
//    b'framingmediatypes':  [b'application/mercurial-exp-framing-0006'],
//    b'contentencodings':   [b'zstd-8mb', b'zlib', b'identity'],  (preference order)
//    b'limits':             {b'maxframesize': n, b'maxbodybytes': n,
//                            b'maxoutputbytes': n},
//    b'pathfilterprefixes': [],   (no file paths served; Mercurial sends a set)
//    b'rawrepoformats':     []}   (no repository store to stream)
//
// A registry serving a repository overrides the last two with the
// repository's (CommandRegistry::set_descriptor_overrides).
//
// `redirect` only with --redirect-target (server/content_redirect.hpp:
// advertise_redirect_targets adds it to the descriptor overrides).
#include <string_view>

#include "framing/cbor.hpp"

namespace hgrpc::server {

class CommandRegistry;
struct CommandLimits;

inline constexpr std::string_view kFramingMediaType = "application/mercurial-exp-framing-0006";

// The full capabilities map (commands, framingmediatypes, contentencodings,
// limits, ...), shared by the `capabilities` command and the HTTP handshake.
framing::json capabilities_map(const CommandRegistry& registry, const CommandLimits& limits);

}  // namespace hgrpc::server
