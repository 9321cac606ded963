// Which process this is as far as fork() goes, and a guard that keeps
// fork() out of the core's locked work, so that a child never inherits
// per-process state (a watcher, a lock, a drain counter) half-way through.
#ifndef PYFRESH_FORK_GENERATION_H_
#define PYFRESH_FORK_GENERATION_H_

#include <cstdint>

namespace pyfresh {

// Bumped in the child after every fork() of this process.
uint64_t CurrentForkGeneration();

// Held by a thread while it works under one of the core's per-process
// locks (take it before the lock). fork() waits until no thread holds one,
// so the child starts with every such lock free and every "events read but
// not yet published" counter at zero: a thread that held them does not
// exist there, and nothing would ever release them. Reentrant within a
// thread; many threads hold it at once. Not copyable.
class ForkGuard {
 public:
  ForkGuard();
  ~ForkGuard();
  ForkGuard(const ForkGuard&) = delete;
  ForkGuard& operator=(const ForkGuard&) = delete;
};

}  // namespace pyfresh

#endif  // PYFRESH_FORK_GENERATION_H_
