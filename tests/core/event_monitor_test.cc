#include "event_monitor.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace pyfresh {
namespace internal {
namespace {

bool Eventually(const std::atomic<bool>& flag) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!flag.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return flag.load();
}

class EventMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::pipe2(pipe_, O_NONBLOCK | O_CLOEXEC), 0);
    ASSERT_TRUE(EventMonitor::Start(pipe_[0], &pending_, &monitor_).ok());
  }
  void TearDown() override {
    monitor_.reset();
    ::close(pipe_[0]);
    ::close(pipe_[1]);
  }
  void Write() { ASSERT_EQ(::write(pipe_[1], "x", 1), 1); }
  void ReadDry() {
    char buffer[64];
    while (::read(pipe_[0], buffer, sizeof buffer) > 0) {
    }
  }

  int pipe_[2] = {-1, -1};
  std::atomic<bool> pending_{false};
  std::unique_ptr<EventMonitor> monitor_;
};

TEST_F(EventMonitorTest, RaisesTheFlagWhenDataArrives) {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(pending_.load());
  Write();
  EXPECT_TRUE(Eventually(pending_));
}

TEST_F(EventMonitorTest, StaysQuietUntilRearmedThenWatchesAgain) {
  Write();
  ASSERT_TRUE(Eventually(pending_));
  pending_ = false;
  ReadDry();
  monitor_->Rearm();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(pending_.load());
  Write();
  EXPECT_TRUE(Eventually(pending_));
}

TEST_F(EventMonitorTest, DataArrivingBeforeRearmIsNotLost) {
  Write();
  ASSERT_TRUE(Eventually(pending_));
  pending_ = false;
  ReadDry();
  Write();  // after reading dry, before re-arming
  monitor_->Rearm();
  EXPECT_TRUE(Eventually(pending_));
}

TEST_F(EventMonitorTest, ThreadBlocksEverySignal) {
  // A process-directed signal must go to a thread that accepts it: with the
  // test thread blocking SIGUSR1, a monitor accepting it would run the
  // default action and kill the test.
  sigset_t usr1, previous;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, &previous);
  ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  sigset_t waiting;
  sigpending(&waiting);
  EXPECT_TRUE(sigismember(&waiting, SIGUSR1));  // still pending: nobody took it
  int taken = 0;
  sigwait(&usr1, &taken);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

TEST_F(EventMonitorTest, DestroyingAnInheritedMonitorInAChildDoesNotHang) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    monitor_.reset();  // the thread does not exist here; must not join it
    ::_exit(0);
  }
  int status = 0;
  pid_t reaped = 0;
  for (int i = 0; i < 500 && (reaped = ::waitpid(child, &status, WNOHANG)) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (reaped == 0) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
    FAIL() << "the child hung destroying the inherited monitor";
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace internal
}  // namespace pyfresh
