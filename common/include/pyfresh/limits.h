// The bounds of the core's time values, each defined once: config.cc
// validates the options with them and the binding checks its own
// arguments (Detector(poll_interval=), Detector.wait) against them.
#ifndef PYFRESH_LIMITS_H_
#define PYFRESH_LIMITS_H_

namespace pyfresh {

// poll-interval: one day. A longer interval would mean "never": not polling.
constexpr double kMaxPollIntervalSeconds = 86400;

// drain-timeout: one day, how long a reload may wait for requests in flight.
constexpr double kMaxDrainTimeoutSeconds = 86400;

// Detector.wait(timeout): one day per call (the caller calls it again).
constexpr double kMaxWaitSeconds = 86400;

}  // namespace pyfresh

#endif  // PYFRESH_LIMITS_H_
