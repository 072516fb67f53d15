#pragma once
// The shape of the time breakdown of `hgrpc clone --json` and `hgrpc pull
// --json` (client/time_breakdown.hpp): every key there, a number >= 0, the
// stages adding up to at most wall_s.
#include <doctest/doctest.h>

#include <string>

#include "framing/cbor.hpp"

namespace hgrpc::client::test {

inline void check_time_breakdown(const framing::json& summary) {
  for (const char* key : {"wall_s", "cpu_s", "response_bytes", "request_bytes", "peak_rss_bytes"}) {
    REQUIRE_MESSAGE(summary.contains(key), key);
    CHECK_MESSAGE(summary.at(key).is_number(), key);
    CHECK_MESSAGE(summary.at(key).get<double>() >= 0, key);
  }
  for (const char* key : {"response_bytes", "request_bytes", "peak_rss_bytes"}) {
    CHECK_MESSAGE(summary.at(key).is_number_unsigned(), key);
  }
  REQUIRE(summary.contains("stages"));
  const auto& stages = summary.at("stages");
  CHECK(stages.size() == 9);
  double sum = 0;
  for (const char* key :
       {"network_wait", "http", "decode", "patch", "hash", "revlog_write", "write_wait", "checkout", "other"}) {
    REQUIRE_MESSAGE(stages.contains(key), key);
    CHECK_MESSAGE(stages.at(key).is_number(), key);
    CHECK_MESSAGE(stages.at(key).get<double>() >= 0, key);
    sum += stages.at(key).get<double>();
  }
  // The command's thread and each writer thread are in one stage at a time.
  REQUIRE(summary.contains("write_threads"));
  const double write_threads = summary.at("write_threads").get<double>();
  const double threads = write_threads > 0 ? 2 + write_threads : 1;  // the manifest writer too
  CHECK(sum <= summary.at("wall_s").get<double>() * threads);
  CHECK(summary.at("wall_s").get<double>() > 0);
}

}  // namespace hgrpc::client::test
