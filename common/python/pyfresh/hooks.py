"""Reload hooks for app code, and what a module can ask while it is re-imported.

    import pyfresh

    @pyfresh.before_reload
    def dispose_engine():
        engine.dispose()

    @pyfresh.after_reload
    def warm_up():
        ...

    old = pyfresh.previous_module(__name__)   # None unless a reload re-imports us
    engine = old.engine if old is not None else create_engine(URL)

Rules (per interpreter):

* A hook belongs to the module whose code registered it (the caller of
  ``before_reload``/``after_reload``, usually a decorator at import time).
  Modules are re-imported on every reload, so when a reload clears a module,
  the hooks it registered are dropped, and its new version registers them
  again: they never pile up. A failed reload puts the old modules back, and
  their hooks with them. Registering the same callable twice keeps one.
* A Reloader runs the hooks registered by modules under its packages, and
  the hooks registered by modules no Reloader covers (e.g. a .wsgi file's
  code outside the packages, or an excluded module).
* ``before_reload`` hooks run with the old code still in place, before any
  module is cleared; ``after_reload`` hooks run after the new app was
  imported successfully (never after a failed reload, and not at startup).
* A hook that raises is logged with its traceback and the reload goes on:
  a failing before-hook does not block the reload (it lives in the old code,
  so blocking would keep that broken code for ever), and modules are never
  left half-cleared. Hooks take no arguments.
"""

import sys
import threading

from .log import logger

_lock = threading.RLock()
_before = []  # [(callable, owner module name or None)]
_after = []
_local = threading.local()


def _caller_module(depth):
    try:
        return sys._getframe(depth + 1).f_globals.get("__name__")
    except (AttributeError, ValueError):
        return None


def _register(hooks, fn, owner):
    if not callable(fn):
        raise TypeError("a reload hook must be callable, not %s" % type(fn).__name__)
    with _lock:
        for existing, _owner in hooks:
            if existing == fn:
                return fn
        hooks.append((fn, owner))
    return fn


def before_reload(fn):
    """Registers fn() to run before a reload clears the modules. Returns fn
    (usable as a decorator)."""
    return _register(_before, fn, _caller_module(1))


def after_reload(fn):
    """Registers fn() to run after a reload imported the new app. Returns fn
    (usable as a decorator)."""
    return _register(_after, fn, _caller_module(1))


def remove_hook(fn):
    """Unregisters fn from both lists; True if it was registered."""
    with _lock:
        found = False
        for hooks in (_before, _after):
            kept = [(f, o) for f, o in hooks if f != fn]
            found = found or len(kept) != len(hooks)
            hooks[:] = kept
        return found


def currently_reloading():
    """True in the thread re-importing the app for a reload (from the
    before-hooks to the after-hooks); False at startup and in requests."""
    return getattr(_local, "reloading", None) is not None


def previous_module(name):
    """During a reload, the module object `name` had before the reload
    cleared it (to carry state over); None otherwise."""
    saved = getattr(_local, "reloading", None)
    if saved is None:
        return None
    return saved.get(name)


class reloading:
    """Context manager: marks this thread as reloading; `saved` maps the
    cleared module names to the old modules (filled in by the reloader)."""

    def __init__(self, saved):
        self.saved = saved

    def __enter__(self):
        self._outer = getattr(_local, "reloading", None)
        _local.reloading = self.saved
        return self

    def __exit__(self, *exc):
        _local.reloading = self._outer
        return False


def hooks_for(which, belongs):
    """The callables of `which` ("before" or "after") whose owner satisfies
    belongs(owner)."""
    hooks = _before if which == "before" else _after
    with _lock:
        return [fn for fn, owner in hooks if belongs(owner)]


def run(which, owns, others_own):
    """Runs the hooks of `which` ("before" or "after") that belong to a
    reloader: those of modules it `owns(name)`, and those of modules that
    none of `others_own` (the other reloaders' `owns`) claims: code outside
    every package. A failing hook is logged and skipped."""

    def belongs(owner):
        if owner is None or owns(owner):
            return True
        return not any(other_owns(owner) for other_owns in others_own)

    for fn in hooks_for(which, belongs):
        try:
            fn()
        except (Exception, SystemExit):
            logger.error("%s_reload hook %s failed; %s", which, _hook_name(fn),
                         "reloading anyway" if which == "before" else "the new code stays loaded",
                         exc_info=True)


def _hook_name(fn):
    module = getattr(fn, "__module__", None)
    name = getattr(fn, "__qualname__", None) or repr(fn)
    return "%s.%s" % (module, name) if module else name


def take_owned(owned):
    """Removes and returns the hooks whose owner satisfies owned(owner), as
    an opaque value for put_back()."""
    with _lock:
        taken = ([h for h in _before if owned(h[1])], [h for h in _after if owned(h[1])])
        _before[:] = [h for h in _before if not owned(h[1])]
        _after[:] = [h for h in _after if not owned(h[1])]
        return taken


def put_back(taken):
    with _lock:
        for hooks, items in zip((_before, _after), taken):
            for item in items:
                if all(existing != item[0] for existing, _owner in hooks):
                    hooks.append(item)
