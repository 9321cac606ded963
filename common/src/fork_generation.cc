#include "pyfresh/fork_generation.h"

#include <pthread.h>

#include <atomic>

namespace pyfresh {
namespace {

// All trivially destructible: no static destructor in a host server.
std::atomic<uint64_t> g_fork_generation{0};
pthread_once_t g_fork_handlers_once = PTHREAD_ONCE_INIT;
// Shared by ForkGuards, exclusive while fork() runs. Writer-preferring, so
// a fork is not starved by a stream of guarded calls (none nests its read
// lock: the thread-local depth below makes the guard reentrant).
pthread_rwlock_t g_fork_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
thread_local int t_guard_depth = 0;
// Set when the forking thread itself held a guard: it cannot wait for
// itself, so that fork goes ahead without the lock (nothing in the core
// forks under a guard; this only keeps a misuse from hanging).
thread_local bool t_fork_locked = false;

void BeforeFork() {
  t_fork_locked = t_guard_depth == 0;
  if (t_fork_locked) pthread_rwlock_wrlock(&g_fork_lock);
}

void AfterForkInParent() {
  if (t_fork_locked) pthread_rwlock_unlock(&g_fork_lock);
}

void AfterForkInChild() {
  g_fork_generation.fetch_add(1, std::memory_order_relaxed);
  // The forking thread has another thread id in the child, and glibc ties
  // a write lock to the id that took it: start over rather than unlock.
  if (t_fork_locked) {
    pthread_rwlock_t fresh = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
    g_fork_lock = fresh;
  }
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
  if (t_guard_depth++ == 0) {
    pthread_once(&g_fork_handlers_once, &RegisterForkHandlers);
    pthread_rwlock_rdlock(&g_fork_lock);
  }
}

ForkGuard::~ForkGuard() {
  if (--t_guard_depth == 0) pthread_rwlock_unlock(&g_fork_lock);
}

}  // namespace pyfresh
