#pragma once
// Request bodies for the HTTP load driver (bench/http_load.cpp), built once
// with the framing client reactor, and the check of their responses.
//
//   patchedsize   one small patchedsize request (a ~20-byte delta)
//   applypatches  one applypatches request: 1 MiB base, 100 deltas (1 MiB answer)
//   multirequest  N small patchedsize requests in one multirequest body
//   bigbody       a multirequest body of ~total bytes, generated chunk by chunk
//                 (1 MiB patchedsize requests whose delta comes as command data)
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "framing/bytes.hpp"
#include "framing/cbor.hpp"
#include "framing/client_reactor.hpp"
#include "framing/result.hpp"

namespace hgrpc::bench {

using framing::Bytes;
using framing::ByteView;
using framing::json;

inline constexpr std::string_view kMediaType = "application/mercurial-exp-framing-0006";
inline constexpr std::string_view kApiPrefix = "/api/exp-http-v2-0003/ro/";

struct Workload {
  std::string path;             // URL path of the POST
  Bytes body;                   // the whole request body
  std::vector<json> expected;   // the one value each request answers, in request order
};

Workload patchedsize_workload(const framing::ClientReactorOptions& options);
// base_bytes of text, 100 deltas: the answer is base_bytes long.
Workload applypatches_workload(const framing::ClientReactorOptions& options,
                               std::size_t base_bytes = std::size_t{1} << 20);
Workload multirequest_workload(const framing::ClientReactorOptions& options, std::size_t commands);

// Checks a response body: every request of w answered ok with exactly its
// expected value. The error names the request and what differed.
framing::Result<void> check_response(const Workload& w, ByteView response,
                                     const framing::ClientReactorOptions& options);

// A multirequest body of at least total_bytes, produced one request at a time
// so that it never sits in memory whole.
class BigBody {
 public:
  BigBody(const framing::ClientReactorOptions& options, std::uint64_t total_bytes,
          std::size_t request_bytes = std::size_t{1} << 20);
  // Appends the frames of the next request to out; false once the body is complete.
  bool next(Bytes& out);
  std::size_t requests() const { return requests_; }
  std::uint64_t produced() const { return produced_; }
  std::uint64_t answer() const { return delta_data_; }  // each request's patched size
  Workload expectation() const;  // path and expected values, without a body

 private:
  framing::ClientReactor reactor_;
  Bytes data_;  // command data: one CBOR byte string holding the delta
  std::uint64_t total_;
  std::uint64_t produced_ = 0;
  std::size_t requests_ = 0;
  std::uint64_t delta_data_ = 0;
};

}  // namespace hgrpc::bench
