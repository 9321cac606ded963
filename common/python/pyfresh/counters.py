"""What the Reloaders did: reloads, failures, restarts and the latest
reload, per Reloader (``Reloader.stats()``) and for this interpreter
(``pyfresh.stats()``). Never served over HTTP.

Also the registry of this interpreter's Reloaders, which the reload hooks
use to tell whose a hook is (see hooks.run).
"""

import os
import threading
import weakref

# Every Reloader of this interpreter, for pyfresh.stats() and the hooks.
_all_reloaders = weakref.WeakSet()
_all_lock = threading.Lock()


def register(reloader):
    with _all_lock:
        _all_reloaders.add(reloader)


def other_reloaders(reloader):
    """This interpreter's Reloaders except `reloader`, alive now."""
    with _all_lock:
        return [r for r in _all_reloaders if r is not reloader]


def totals(reloader):
    return "totals: %d reloads, %d failures, %d restarts" % (
        reloader.reload_count, reloader.failure_count, reloader.restart_count)


def reloader_stats(reloader):
    """One reloader's counters (a new dict)."""
    return {
        "app": reloader.spec.text,
        "reloads": reloader.reload_count,
        "failures": reloader.failure_count,
        "restarts": reloader.restart_count,
        "last_reload_ms": reloader.last_reload_ms,
        "last_reload_ok": reloader.last_reload_ok,
        "last_trigger": reloader.last_trigger,
        "last_trigger_files": list(reloader.last_trigger_files),
        "last_restart_reason": reloader.last_restart_reason,
    }


def stats():
    """Counters of this process (this interpreter's Reloaders together):
    reloads, failures, restarts, and the latest reload's duration (ms) and
    trigger file. A new dict; pyfresh never serves it over HTTP."""
    with _all_lock:
        reloaders = list(_all_reloaders)
    latest = max((r for r in reloaders if r.last_reload_ok is not None),
                 key=lambda r: r._last_event, default=None)
    last_restart = max((r for r in reloaders if r.last_restart_reason is not None),
                       key=lambda r: r._last_event, default=None)
    return {
        "pid": os.getpid(),
        "reloaders": len(reloaders),
        "reloads": sum(r.reload_count for r in reloaders),
        "failures": sum(r.failure_count for r in reloaders),
        "restarts": sum(r.restart_count for r in reloaders),
        "last_reload_ms": latest.last_reload_ms if latest else None,
        "last_reload_ok": latest.last_reload_ok if latest else None,
        "last_trigger": latest.last_trigger if latest else None,
        "last_restart_reason": last_restart.last_restart_reason if last_restart else None,
    }
