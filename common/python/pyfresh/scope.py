"""Zero configuration: which packages are the user's own code.

Without a package list, a Reloader covers every top-level package (or
module) that the app imported and whose file lies outside the standard
library and the site/dist-packages directories: the code being edited, as
opposed to installed libraries. pyfresh itself, ``__main__`` and mod_wsgi's
script modules are never inferred.
"""

import importlib.machinery
import os
import site
import sys
import sysconfig

# Never inferred: pyfresh itself (with its pytest plugin, a top-level module
# that sits beside the package, in the build tree too), the modules hosts run
# scripts as, and the interpreter's startup hooks (Debian's sitecustomize.py
# is a symlink into /etc/python3.X, outside the standard library's directory).
_NEVER = ("pyfresh", "pytest_pyfresh", "__main__", "__mp_main__", "sitecustomize", "usercustomize")
_NEVER_PREFIXES = ("_mod_wsgi_",)

_system_dirs = None


def system_directories():
    """The standard library's and installed packages' directories, real
    paths, each ending with a separator."""
    global _system_dirs
    if _system_dirs is not None:
        return _system_dirs
    dirs = set()
    paths = sysconfig.get_paths()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if paths.get(key):
            dirs.add(paths[key])
    try:
        dirs.update(site.getsitepackages())
    except AttributeError:  # virtualenv's old site.py
        pass
    user_site = getattr(site, "USER_SITE", None)
    if user_site:
        dirs.add(user_site)
    for entry in sys.path:
        if isinstance(entry, str) and os.path.basename(entry.rstrip(os.sep)) in ("site-packages", "dist-packages"):
            dirs.add(entry)
    _system_dirs = tuple(sorted({os.path.join(os.path.realpath(d), "") for d in dirs if d}))
    return _system_dirs


def is_user_file(path):
    """True for a module file outside the stdlib and site/dist-packages."""
    if not isinstance(path, str) or not path or not os.path.isabs(path):
        return False
    real = os.path.realpath(path)
    for directory in system_directories():
        if real.startswith(directory):
            return False
    # Any other dist-packages/site-packages directory (another Python's).
    parts = real.split(os.sep)
    return "site-packages" not in parts and "dist-packages" not in parts


def not_user_code(name):
    """Where the top-level package of `name` comes from when that is not
    the user's code ("part of the standard library (DIR)", "installed in
    DIR"), else None (user code, or not found: it may appear later). Finds
    it on sys.path without importing anything."""
    top = name.partition(".")[0]
    if top in sys.builtin_module_names:
        return "built into the interpreter"
    try:
        spec = importlib.machinery.PathFinder.find_spec(top)
    except (ImportError, ValueError, OSError):
        return None
    if spec is None:
        return None
    locations = [p for p in (spec.submodule_search_locations or ()) if isinstance(p, str)]
    if not locations and spec.has_location and isinstance(spec.origin, str):
        locations = [spec.origin]
    if not locations or any(is_user_file(p) for p in locations):
        return None
    where = locations[0] if spec.submodule_search_locations else os.path.dirname(locations[0])
    stdlib = {os.path.join(os.path.realpath(d), "") for d in
              (sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib")) if d}
    if any(os.path.join(os.path.realpath(where), "").startswith(d) for d in stdlib) and not any(
            part in ("site-packages", "dist-packages") for part in os.path.realpath(where).split(os.sep)):
        return "part of the standard library (%s)" % where
    return "installed in %s" % where


def can_infer(name):
    """Whether a module name may become an inferred package prefix."""
    top = name.partition(".")[0]
    return top not in _NEVER and not top.startswith(_NEVER_PREFIXES)


def module_file(module):
    path = getattr(module, "__file__", None)
    if isinstance(path, str):
        return path
    spec = getattr(module, "__spec__", None)
    if spec is not None and spec.has_location and isinstance(spec.origin, str):
        return spec.origin
    return None


def infer_prefixes(modules):
    """Sorted top-level names of the user's own modules among (name, module) pairs."""
    prefixes = set()
    for name, module in modules:
        if module is None or not can_infer(name):
            continue
        if is_user_file(module_file(module)):
            prefixes.add(name.partition(".")[0])
    return sorted(prefixes)
