#include "pyfresh/fork_generation.h"

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace pyfresh {
namespace {

// All trivially destructible: no static destructor in a host server.
std::atomic<uint64_t> g_fork_generation{0};
pthread_once_t g_fork_handlers_once = PTHREAD_ONCE_INIT;
// Threads inside a ForkGuard, and whether a fork() waits for them to leave
// (new guards wait meanwhile). A reader raises its count, then looks at the
// flag; a fork raises the flag, then looks at the count: one of them sees
// the other. Plain atomics rather than a lock, so that nothing needs
// unlocking (or re-creating) in the child.
std::atomic<int> g_guarded{0};
std::atomic<bool> g_forking{false};
thread_local int t_guard_depth = 0;
// Whether this thread's fork raised the flag. A thread that forks inside a
// guard cannot wait for itself, so its fork goes ahead without (nothing in
// the core forks under a guard; this only keeps a misuse from hanging).
thread_local bool t_fork_waited = false;

void Pause() { std::this_thread::sleep_for(std::chrono::microseconds(100)); }

void BeforeFork() {
  t_fork_waited = t_guard_depth == 0;
  if (!t_fork_waited) return;
  // One fork at a time raises the flag.
  bool expected = false;
  while (!g_forking.compare_exchange_weak(expected, true, std::memory_order_seq_cst)) {
    expected = false;
    Pause();
  }
  while (g_guarded.load(std::memory_order_seq_cst) != 0) Pause();
}

void AfterForkInParent() {
  if (t_fork_waited) g_forking.store(false, std::memory_order_seq_cst);
}

void AfterForkInChild() {
  g_fork_generation.fetch_add(1, std::memory_order_relaxed);
  // Only this thread exists here; the threads the parent's guards counted do not.
  g_guarded.store(t_guard_depth > 0 ? 1 : 0, std::memory_order_seq_cst);
  g_forking.store(false, std::memory_order_seq_cst);
}

// glibc unregisters the handlers when a shared object holding them is
// unloaded, so this is safe inside a dlopen()ed module.
void RegisterForkHandlers() { pthread_atfork(&BeforeFork, &AfterForkInParent, &AfterForkInChild); }

}  // namespace

uint64_t CurrentForkGeneration() {
  pthread_once(&g_fork_handlers_once, &RegisterForkHandlers);
  return g_fork_generation.load(std::memory_order_acquire);
}

ForkGuard::ForkGuard() {
  if (t_guard_depth++ != 0) return;
  pthread_once(&g_fork_handlers_once, &RegisterForkHandlers);
  for (;;) {
    g_guarded.fetch_add(1, std::memory_order_seq_cst);
    if (!g_forking.load(std::memory_order_seq_cst)) return;
    // A fork is waiting for the guarded threads to leave: do not hold it up.
    g_guarded.fetch_sub(1, std::memory_order_seq_cst);
    while (g_forking.load(std::memory_order_seq_cst)) Pause();
  }
}

ForkGuard::~ForkGuard() {
  if (--t_guard_depth == 0) g_guarded.fetch_sub(1, std::memory_order_seq_cst);
}

}  // namespace pyfresh
