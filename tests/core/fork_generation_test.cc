#include "pyfresh/fork_generation.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace pyfresh {
namespace {

// Forks; the child returns `child()`'s verdict through its exit status.
template <typename F>
bool InForkedChild(F child) {
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::alarm(30);  // a child that inherited a held guard would hang
    ::_exit(child() ? 0 : 1);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return false;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

TEST(ForkGeneration, BumpedInTheChildOnly) {
  const uint64_t before = CurrentForkGeneration();
  EXPECT_TRUE(InForkedChild([&] { return CurrentForkGeneration() == before + 1; }));
  EXPECT_EQ(CurrentForkGeneration(), before);
}

TEST(ForkGeneration, CurrentForkGenerationIsBumpedInChildrenOnly) {
  const uint64_t before = CurrentForkGeneration();
  const bool child_ok = InForkedChild([&] {
    const bool bumped = CurrentForkGeneration() == before + 1;
    const bool grandchild_ok = InForkedChild([&] { return CurrentForkGeneration() == before + 2; });
    return bumped && grandchild_ok;
  });
  EXPECT_TRUE(child_ok);
  EXPECT_EQ(CurrentForkGeneration(), before);
}

TEST(ForkGuard, AForkWaitsUntilAnotherThreadLeavesItsGuard) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ThreadSanitizer does not support fork after threads";
#endif
  std::atomic<bool> entered{false};
  std::atomic<bool> release{false};
  std::atomic<bool> left{false};
  std::thread holder([&] {
    {
      ForkGuard guard;
      entered = true;
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ForkGuard nested;  // reentrant, even while a fork waits
      left = true;       // written before the guard is left
    }
  });
  while (!entered) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::atomic<bool> child_ok{false};
  std::thread forker([&] {
    // The child's copy of `left` tells whether the fork waited for it.
    child_ok = InForkedChild([&] {
      ForkGuard guard;  // and a guard is free to take in the child
      return left.load();
    });
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  release = true;
  holder.join();
  forker.join();
  EXPECT_TRUE(child_ok);
}

TEST(ForkGuard, AForkInsideAGuardDoesNotWaitForItself) {
  ForkGuard guard;
  EXPECT_TRUE(InForkedChild([] {
    ForkGuard nested;
    return true;
  }));
  // Guards still work in the parent afterwards.
  std::thread other([] { ForkGuard guard; });
  other.join();
}

}  // namespace
}  // namespace pyfresh
