// Puts the engine in front of one uWSGI app.
#ifndef PYFRESH_UWSGI_APP_WRAPPER_H_
#define PYFRESH_UWSGI_APP_WRAPPER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "plugin_options.h"
#include "pyfresh/status.h"

namespace pyfresh_uwsgi {

// In app `app_id`'s interpreter, pyfresh.hosts.uwsgi.wrap() builds a
// pyfresh.Reloader for `spec` that serves the callable uWSGI loaded, and
// the Reloader becomes the app's callable. In the master (before fork) the
// workers' copies of the app get it too. uwsgi_apps lives in shared memory:
// a worker must never change a preforked app (a respawned worker would
// inherit a pointer into the dead worker's heap); a lazy-apps worker writes
// only its own copy, as the python plugin does when it loads the app there.
// `load_started_ns` (CLOCK_REALTIME_COARSE, or -1) is when this process
// began importing its apps: a file saved since then is reloaded at once.
// Errors (the traceback is logged first) name the app.
pyfresh::Status WrapApp(int app_id, const std::string& spec, const std::vector<EnginePair>& pairs,
                        int64_t load_started_ns);

// uWSGI could not load the app at `mountpoint` (broken code at startup):
// in the interpreter the app would have run in (the main one for the main
// app or with single-interpreter; a new sub-interpreter, set up as the
// python plugin sets up a mount's, otherwise),
// pyfresh.hosts.uwsgi.serve_unloaded() builds a Reloader for `spec` that
// answers with the error response until a save fixes the code, and the
// python plugin adds it as the app at `mountpoint` (in the master before
// fork, so the workers have it too). *served is false, and nothing is
// done, when the python plugin lacks what that needs.
pyfresh::Status ServeUnloadedApp(const std::string& mountpoint, const std::string& spec,
                                 const std::vector<EnginePair>& pairs, bool* served);

// Whether `module` can be found on the main interpreter's sys.path
// (without importing it); `detail` gets sys.path when not.
bool PythonModuleFindable(const char* module, std::string* detail);

}  // namespace pyfresh_uwsgi

#endif  // PYFRESH_UWSGI_APP_WRAPPER_H_
