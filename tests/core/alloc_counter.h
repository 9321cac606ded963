// Counts global operator new calls while an AllocationCounter is alive, to
// prove that a code path allocates nothing. The replacement operator new is
// in alloc_counter.cc (link it into the test).
#ifndef PYFRESH_TESTS_CORE_ALLOC_COUNTER_H_
#define PYFRESH_TESTS_CORE_ALLOC_COUNTER_H_

namespace pyfresh {
namespace testing {

void StartCountingAllocations();
long StopCountingAllocations();

class AllocationCounter {
 public:
  AllocationCounter() { StartCountingAllocations(); }
  ~AllocationCounter() { StopCountingAllocations(); }
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;
  // Stops counting; the number of allocations seen (by any thread).
  long count() { return StopCountingAllocations(); }
};

}  // namespace testing
}  // namespace pyfresh

#endif  // PYFRESH_TESTS_CORE_ALLOC_COUNTER_H_
