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
  CHECK(stages.size() == 8);
  double sum = 0;
  for (const char* key : {"network_wait", "http", "decode", "patch", "hash", "revlog_write", "checkout", "other"}) {
    REQUIRE_MESSAGE(stages.contains(key), key);
    CHECK_MESSAGE(stages.at(key).is_number(), key);
    CHECK_MESSAGE(stages.at(key).get<double>() >= 0, key);
    sum += stages.at(key).get<double>();
  }
  CHECK(sum <= summary.at("wall_s").get<double>());
  CHECK(summary.at("wall_s").get<double>() > 0);
}

}  // namespace hgrpc::client::test
