// client/write_lanes.hpp: order within a lane, the first error stopping
// every lane, the shared bounded budget, the least loaded lane, and the
// inline mode of zero threads.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "client/write_lanes.hpp"

using hgrpc::client::ClientResult;
using hgrpc::client::ErrorKind;
using hgrpc::client::WriteLanes;

TEST_CASE("write lanes: each lane runs its jobs in order, every job runs once") {
  WriteLanes lanes(3, 1 << 20);
  REQUIRE(lanes.lanes() == 3);
  std::mutex m;
  std::vector<std::vector<int>> ran(3);
  for (int i = 0; i < 300; ++i) {
    const std::size_t lane = static_cast<std::size_t>(i) % 3;
    REQUIRE(lanes.submit(lane, 10, [&, lane, i]() -> ClientResult<void> {
      std::lock_guard lock(m);
      ran[lane].push_back(i);
      return {};
    }));
  }
  REQUIRE(lanes.wait());
  for (std::size_t lane = 0; lane < 3; ++lane) {
    REQUIRE(ran[lane].size() == 100);
    for (std::size_t k = 0; k < 100; ++k) CHECK(ran[lane][k] == static_cast<int>(lane + 3 * k));
  }
  // A lane index past the count wraps around.
  int wrapped = -1;
  REQUIRE(lanes.submit(7, 0, [&]() -> ClientResult<void> {
    wrapped = 7;
    return {};
  }));
  REQUIRE(lanes.wait());
  CHECK(wrapped == 7);
}

TEST_CASE("write lanes: the first failing job's error is returned and later jobs are dropped") {
  WriteLanes lanes(2, 1 << 20);
  std::atomic<int> ran_after{0};
  std::atomic<bool> release{false};
  // Lane 1 is held until lane 0 has failed, so its queued jobs come after the error.
  REQUIRE(lanes.submit(1, 1, [&]() -> ClientResult<void> {
    while (!release) std::this_thread::yield();
    return {};
  }));
  for (int i = 0; i < 5; ++i) {
    REQUIRE(lanes.submit(1, 1, [&]() -> ClientResult<void> {
      ++ran_after;
      return {};
    }));
  }
  REQUIRE(lanes.submit(0, 1, []() -> ClientResult<void> {
    return hgrpc::unexpected<hgrpc::client::ClientError>(hgrpc::client::ClientError{ErrorKind::Protocol, "data/a.i: node 00: hash mismatch"});
  }));
  // Until the failure is seen, submit still queues; once it is, it refuses.
  for (;;) {
    auto r = lanes.submit(0, 1, []() -> ClientResult<void> { return {}; });
    if (!r) {
      CHECK(r.error().message == "data/a.i: node 00: hash mismatch");
      break;
    }
    std::this_thread::yield();
  }
  release = true;
  auto waited = lanes.wait();
  REQUIRE_FALSE(waited);
  CHECK(waited.error().kind == ErrorKind::Protocol);
  CHECK(waited.error().message == "data/a.i: node 00: hash mismatch");
  CHECK(ran_after == 0);
}

TEST_CASE("write lanes: a full lane makes submit wait, so queued bytes stay bounded") {
  constexpr std::uint64_t kMax = 10;
  WriteLanes lanes(1, kMax);
  std::atomic<int> outstanding{0};  // submitted (or being submitted) and not finished
  std::atomic<int> most{0};
  for (int i = 0; i < 60; ++i) {
    ++outstanding;
    REQUIRE(lanes.submit(0, 4, [&]() -> ClientResult<void> {
      int now = outstanding.load();
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      --outstanding;
      return {};
    }));
  }
  REQUIRE(lanes.wait());
  CHECK(outstanding == 0);
  // Two 4-byte jobs fit in 10 bytes, plus the one whose submit waits.
  CHECK(most <= 3);
  CHECK(most >= 1);
  // A job larger than the bound still runs, alone.
  bool big = false;
  REQUIRE(lanes.submit(0, 1000, [&]() -> ClientResult<void> {
    big = true;
    return {};
  }));
  REQUIRE(lanes.wait());
  CHECK(big);
}

TEST_CASE("write lanes: the lanes share one budget, so a busy lane does not stall the others") {
  // Two lanes of 10 bytes each: lane 0 may hold 20 bytes while lane 1 is
  // empty, and a submit to lane 1 then waits for lane 0's jobs.
  WriteLanes lanes(2, 10);
  std::atomic<bool> release{false};
  std::atomic<int> ran{0};
  for (int i = 0; i < 4; ++i) {  // 4 x 5 bytes on lane 0, the first one blocked
    REQUIRE(lanes.submit(0, 5, [&]() -> ClientResult<void> {
      while (!release) std::this_thread::yield();
      ++ran;
      return {};
    }));
  }
  CHECK(ran == 0);  // 20 bytes queued without waiting: the whole budget
  CHECK(lanes.least_loaded(0, 2) == 1);
  CHECK(lanes.least_loaded(1, 1) == 1);
  std::atomic<bool> submitted{false};
  std::thread late([&] {
    REQUIRE(lanes.submit(1, 5, [&]() -> ClientResult<void> { return {}; }));
    submitted = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(submitted);  // over the budget: waits for lane 0
  release = true;
  late.join();
  REQUIRE(lanes.wait());
  CHECK(ran == 4);
  CHECK(submitted);
  CHECK(lanes.least_loaded(0, 2) == 0);  // both empty: the lowest index
}

TEST_CASE("write lanes: zero threads run each job at once on the caller's thread") {
  WriteLanes lanes(0, 1);
  CHECK(lanes.lanes() == 1);
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  REQUIRE(lanes.submit(5, 100, [&]() -> ClientResult<void> {
    ran_on = std::this_thread::get_id();
    return {};
  }));
  CHECK(ran_on == caller);
  auto failed = lanes.submit(0, 1, []() -> ClientResult<void> {
    return hgrpc::unexpected<hgrpc::client::ClientError>(hgrpc::client::ClientError{ErrorKind::Protocol, "first"});
  });
  REQUIRE_FALSE(failed);
  CHECK(failed.error().message == "first");
  bool ran = false;
  auto after = lanes.submit(0, 1, [&]() -> ClientResult<void> {
    ran = true;
    return {};
  });
  REQUIRE_FALSE(after);
  CHECK(after.error().message == "first");
  CHECK_FALSE(ran);
  CHECK(lanes.wait().error().message == "first");
}

TEST_CASE("write lanes: destroyed with jobs queued, it drops them and returns") {
  std::atomic<int> ran{0};
  std::atomic<bool> started{false};
  std::atomic<bool> release{false};
  std::thread releaser;  // joined once the lanes are gone
  {
    WriteLanes lanes(1, 1 << 20);
    REQUIRE(lanes.submit(0, 1, [&]() -> ClientResult<void> {
      started = true;
      while (!release) std::this_thread::yield();
      ++ran;
      return {};
    }));
    for (int i = 0; i < 10; ++i) {
      REQUIRE(lanes.submit(0, 1, [&]() -> ClientResult<void> {
        ++ran;
        return {};
      }));
    }
    while (!started) std::this_thread::yield();
    // Released well after the destructor below has asked the lane to stop.
    releaser = std::thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      release = true;
    });
  }
  releaser.join();
  // The running job finished; none of the ten queued after it ran.
  CHECK(ran == 1);
}
