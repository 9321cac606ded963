// The exit status with which a process asks to be started again.
#ifndef PYFRESH_RESTART_STATUS_H_
#define PYFRESH_RESTART_STATUS_H_

namespace pyfresh {

// EX_TEMPFAIL ("try again"): a change pyfresh cannot reload in place (a
// compiled extension, a `restart-on` file) ends the process with it, and
// `python3 -m pyfresh.run` (or any supervisor told so) starts it again.
constexpr int kRestartExitStatus = 75;

}  // namespace pyfresh

#endif  // PYFRESH_RESTART_STATUS_H_
