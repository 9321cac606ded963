// Which spec pyfresh re-imports for each app uWSGI loads, by mountpoint.
//
// uWSGI's apps remember only their mountpoint and callable, not where they
// came from, so the table is built at startup from the same options the
// python plugin loads them from: module/wsgi-file/callable (and the other
// loaders) for the main app, `mount` for the others, and `pyfresh-app`
// overriding both. A `pyfresh-app` for a mountpoint nothing else loads
// becomes a mount, so uWSGI loads (and reports) it like any other app.
#ifndef PYFRESH_UWSGI_APP_TABLE_H_
#define PYFRESH_UWSGI_APP_TABLE_H_

#include <string>
#include <string_view>
#include <vector>

#include "plugin_options.h"
#include "pyfresh/status.h"

namespace pyfresh_uwsgi {

// What the python plugin's options say, copied as text (null -> unset).
struct PythonAppOptions {
  const char* module = nullptr;     // module / wsgi / -w
  const char* file = nullptr;       // wsgi-file / file (or a .py/.wsgi argument)
  const char* callable = nullptr;   // callable
  const char* pecan = nullptr;
  const char* paste = nullptr;
  const char* eval = nullptr;
  const char* web3 = nullptr;
  const char* pump = nullptr;
  const char* wsgi_lite = nullptr;
  std::vector<std::string> mounts;  // each "MOUNTPOINT=TARGET", in order
};

struct AppSource {
  std::string mountpoint;  // as uWSGI will store it
  std::string spec;        // what the engine re-imports; empty if unknown
  std::string origin;      // the option it comes from, e.g. "module = x:app"
  bool is_wsgi = true;     // false for web3, pump, wsgi-lite (left alone)
};

// A mount pyfresh adds to uWSGI's list (for a `pyfresh-app` nothing else
// loads). The main app ("") goes first, the others after uWSGI's own.
struct AddedMount {
  std::string mountpoint;
  std::string target;  // in the python plugin's mount syntax
};

class AppTable {
 public:
  // The app at `mountpoint` (compared as MountKey), or null.
  const AppSource* Find(std::string_view mountpoint) const;

  const std::vector<AppSource>& sources() const { return sources_; }

  // Fills the table from the python plugin's options and the pyfresh-app
  // options; `mounts` receives what to add to uWSGI's mounts. When
  // `require_specs`, an app whose code pyfresh cannot import again (eval,
  // paste, a factory call "mod:create_app()") without a pyfresh-app is an
  // error that says what to write.
  static pyfresh::Status Build(const PythonAppOptions& python, const std::vector<AppOption>& apps,
                               bool require_specs, AppTable* table, std::vector<AddedMount>* mounts);

 private:
  std::vector<AppSource> sources_;
};

// The `pyfresh-app` line that names the callable to reload for an app at
// `mountpoint`, for error messages.
std::string PyfreshAppSuggestion(const std::string& mountpoint);

}  // namespace pyfresh_uwsgi

#endif  // PYFRESH_UWSGI_APP_TABLE_H_
