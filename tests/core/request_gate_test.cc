#include "pyfresh/request_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace pyfresh {
namespace {

using std::chrono::milliseconds;
using Role = RequestGate::ReloadRole;

constexpr int64_t kLongNs = int64_t{30} * 1000 * 1000 * 1000;  // 30 s: "wait until drained"

// Waits (bounded) until `condition` holds; true if it did.
template <typename F>
bool Eventually(F condition) {
  for (int i = 0; i < 2000; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return condition();
}

TEST(RequestGate, CountsRequests) {
  RequestGate gate;
  EXPECT_EQ(gate.in_flight(), 0);
  EXPECT_FALSE(gate.reloading());
  EXPECT_TRUE(gate.TryEnter());
  gate.Enter();
  EXPECT_EQ(gate.in_flight(), 2);
  gate.Leave();
  gate.Leave();
  EXPECT_EQ(gate.in_flight(), 0);
}

TEST(RequestGate, ReloadWithNothingInFlightDrainsAtOnce) {
  RequestGate gate;
  bool drained = false;
  EXPECT_EQ(gate.BeginReload(kLongNs, &drained), Role::kOwner);
  EXPECT_TRUE(drained);
  EXPECT_TRUE(gate.reloading());
  EXPECT_FALSE(gate.TryEnter());
  gate.EndReload();
  EXPECT_FALSE(gate.reloading());
  EXPECT_TRUE(gate.TryEnter());
  gate.Leave();
}

TEST(RequestGate, ReloadWaitsForInFlightRequests) {
  RequestGate gate;
  gate.Enter();
  gate.Enter();
  std::atomic<bool> returned{false};
  bool drained = false;
  Role role = Role::kDoneByOther;
  std::thread reloader([&] {
    role = gate.BeginReload(kLongNs, &drained);
    returned = true;
  });
  ASSERT_TRUE(Eventually([&] { return gate.reloading(); }));
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(returned);
  gate.Leave();
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(returned);  // one still in flight
  gate.Leave();
  reloader.join();
  EXPECT_TRUE(returned);
  EXPECT_EQ(role, Role::kOwner);
  EXPECT_TRUE(drained);
  EXPECT_EQ(gate.in_flight(), 0);
  gate.EndReload();
}

TEST(RequestGate, EnterWaitsWhileReloading) {
  RequestGate gate;
  bool drained = false;
  ASSERT_EQ(gate.BeginReload(kLongNs, &drained), Role::kOwner);
  std::atomic<bool> entered{false};
  std::thread request([&] {
    gate.Enter();
    entered = true;
  });
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(entered);
  EXPECT_EQ(gate.in_flight(), 0);
  gate.EndReload();
  request.join();
  EXPECT_TRUE(entered);
  EXPECT_EQ(gate.in_flight(), 1);
  gate.Leave();
}

TEST(RequestGate, SecondReloaderWaitsForTheFirstAndIsDoneByOther) {
  RequestGate gate;
  bool drained = false;
  ASSERT_EQ(gate.BeginReload(kLongNs, &drained), Role::kOwner);
  std::atomic<bool> returned{false};
  Role role = Role::kOwner;
  std::thread second([&] {
    bool second_drained = false;
    role = gate.BeginReload(kLongNs, &second_drained);
    returned = true;
  });
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_FALSE(returned);
  gate.EndReload();
  second.join();
  EXPECT_EQ(role, Role::kDoneByOther);
  EXPECT_FALSE(gate.reloading());
}

TEST(RequestGate, ConcurrentReloadersHaveOneOwner) {
  for (int round = 0; round < 5; ++round) {
    RequestGate gate;
    std::atomic<int> ready{0};
    std::atomic<int> owners{0};
    std::atomic<int> others{0};
    auto reloader = [&] {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
      bool drained = false;
      if (gate.BeginReload(kLongNs, &drained) == Role::kOwner) {
        ++owners;
        // Hold the reload long enough for the other thread to arrive.
        std::this_thread::sleep_for(milliseconds(300));
        gate.EndReload();
      } else {
        ++others;
      }
    };
    std::thread a(reloader);
    std::thread b(reloader);
    a.join();
    b.join();
    EXPECT_EQ(owners.load(), 1);
    EXPECT_EQ(others.load(), 1);
    EXPECT_FALSE(gate.reloading());
  }
}

TEST(RequestGate, DrainTimeout) {
  RequestGate gate;
  gate.Enter();  // a request that never finishes in time
  bool drained = true;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(gate.BeginReload(int64_t{100} * 1000 * 1000, &drained), Role::kOwner);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(drained);
  EXPECT_GE(elapsed, milliseconds(95));
  EXPECT_LT(elapsed, milliseconds(5000));
  EXPECT_TRUE(gate.reloading());
  EXPECT_EQ(gate.in_flight(), 1);
  gate.Leave();  // leaving during a reload is fine
  gate.EndReload();
  EXPECT_EQ(gate.in_flight(), 0);
}

TEST(RequestGate, ZeroAndNegativeTimeoutsDoNotWait) {
  RequestGate gate;
  gate.Enter();
  for (int64_t timeout : {int64_t{0}, int64_t{-5}}) {
    bool drained = true;
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(gate.BeginReload(timeout, &drained), Role::kOwner);
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
    EXPECT_FALSE(drained);
    gate.EndReload();
  }
  gate.Leave();
}

TEST(RequestGate, HugeTimeoutStillWaitsAndWakes) {
  RequestGate gate;
  gate.Enter();
  bool drained = false;
  std::thread reloader([&] { gate.BeginReload(INT64_MAX, &drained); });
  ASSERT_TRUE(Eventually([&] { return gate.reloading(); }));
  std::this_thread::sleep_for(milliseconds(50));
  gate.Leave();
  reloader.join();
  EXPECT_TRUE(drained);
  gate.EndReload();
}

TEST(RequestGate, StressRequestsAndReloads) {
  RequestGate gate;
  std::atomic<bool> stop{false};
  std::atomic<int> inside{0};
  std::atomic<int> violations{0};
  std::atomic<int> reloads{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      while (!stop) {
        if (i % 2 == 0) {
          gate.Enter();
        } else if (!gate.TryEnter()) {
          std::this_thread::yield();
          continue;
        }
        ++inside;
        std::this_thread::yield();
        --inside;
        gate.Leave();
      }
    });
  }
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      while (!stop) {
        bool drained = false;
        if (gate.BeginReload(kLongNs, &drained) == Role::kOwner) {
          // Nothing may be inside the app while the owner reloads.
          if (!drained || inside.load() != 0 || gate.in_flight() != 0) ++violations;
          ++reloads;
          gate.EndReload();
        }
        std::this_thread::yield();
      }
    });
  }
  std::this_thread::sleep_for(milliseconds(500));
  stop = true;
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(violations.load(), 0);
  EXPECT_GT(reloads.load(), 0);
  EXPECT_EQ(gate.in_flight(), 0);
  EXPECT_FALSE(gate.reloading());
}

}  // namespace
}  // namespace pyfresh
