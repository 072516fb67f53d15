// IdleTrimmer and QuietAfterWork: a trim once per quiet period after work,
// none while requests run or when nothing happened since the last one.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "server/idle_trim.hpp"

using namespace hgrpc::server;
using namespace std::chrono_literals;

TEST_CASE("QuietAfterWork: idle once per batch of finished requests") {
  std::int64_t in_flight = 0;
  std::uint64_t finished = 0;
  QuietAfterWork quiet([&] { return in_flight; }, [&] { return finished; });
  CHECK_FALSE(quiet());  // nothing finished yet: nothing to give back
  in_flight = 2;
  finished = 3;
  CHECK_FALSE(quiet());  // busy
  in_flight = 0;
  CHECK(quiet());
  CHECK_FALSE(quiet());  // already trimmed after those
  finished = 4;
  CHECK(quiet());
}

TEST_CASE("IdleTrimmer: trims when idle() says so, stops with its owner") {
  std::atomic<int> asked{0}, trimmed{0};
  std::atomic<bool> idle{false};
  {
    IdleTrimmer t(
        5ms, [&] { ++asked; return idle.load(); }, [&] { ++trimmed; });
    // Bounded waits for an event (not a speed check): up to 10 s.
    for (int i = 0; i < 2000 && asked.load() < 3; ++i) std::this_thread::sleep_for(5ms);
    REQUIRE(asked.load() >= 3);
    CHECK(trimmed.load() == 0);
    idle = true;
    for (int i = 0; i < 2000 && trimmed.load() < 1; ++i) std::this_thread::sleep_for(5ms);
    CHECK(trimmed.load() >= 1);
    // trims() counts after each trim returns: equal, or one behind.
    const auto counted = t.trims();
    CHECK(counted <= static_cast<std::uint64_t>(trimmed.load()));
    CHECK(counted + 1 >= static_cast<std::uint64_t>(trimmed.load()));
  }
  const int after = trimmed.load();
  std::this_thread::sleep_for(30ms);
  CHECK(trimmed.load() == after);  // the thread is gone

  std::atomic<int> never{0};
  { IdleTrimmer off(0ms, [&] { ++never; return true; }, [] {}); }
  CHECK(never.load() == 0);
}
