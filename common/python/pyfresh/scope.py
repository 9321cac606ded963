"""Zero configuration: which packages are the user's own code.

Without a package list, a Reloader covers every top-level package (or
module) that the app imported and whose file lies outside the standard
library and the site/dist-packages directories: the code being edited, as
opposed to installed libraries. pyfresh itself, ``__main__`` and mod_wsgi's
script modules are never inferred.
"""

import os
import site
import sys
import sysconfig

# Never inferred: pyfresh itself, the modules hosts run scripts as, and the
# interpreter's startup hooks (Debian's sitecustomize.py is a symlink into
# /etc/python3.X, outside the standard library's directory).
_NEVER = ("pyfresh", "__main__", "__mp_main__", "sitecustomize", "usercustomize")
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
