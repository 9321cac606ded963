"""The naive baseline of the benchmarks (bench/ only, not part of pyfresh):
a WSGI middleware that, on EVERY request, walks sys.modules, takes every
module under the given package prefixes and os.stat()s its file; when any
file's (mtime_ns, size, inode) differs from what it recorded, it clears
those modules from sys.modules and imports the app again.

This is what a reloader without change notification has to do to serve new
code on the very next request: the check costs one stat() per module file,
on every request, whether or not anything changed. pyfresh's check when
nothing changed is one non-blocking read() of an inotify descriptor.

    from naive_reloader import NaiveReloader
    application = NaiveReloader("benchapp.main:application", ["benchapp"])

It knows nothing of stale bytecode, failed imports or requests in flight:
it exists to measure the cost of the check, under the same server and app.
"""

import importlib
import os
import sys
import threading


class NaiveReloader:
    def __init__(self, spec, prefixes):
        self.module_name, _, self.attribute = spec.partition(":")
        self.attribute = self.attribute or "application"
        self.prefixes = tuple(prefixes)
        self.lock = threading.Lock()
        self.reloads = 0
        self.app = self._import()
        self.identities = self._scan()

    def _covered(self, name):
        for prefix in self.prefixes:
            if name == prefix or name.startswith(prefix + "."):
                return True
        return False

    def _scan(self):
        """{file: (mtime_ns, size, inode) or None}: one stat() per module file."""
        identities = {}
        for name, module in list(sys.modules.items()):
            if module is None or not self._covered(name):
                continue
            path = getattr(module, "__file__", None)
            if not path:
                continue
            try:
                st = os.stat(path)
                identities[path] = (st.st_mtime_ns, st.st_size, st.st_ino)
            except OSError:
                identities[path] = None
        return identities

    def _import(self):
        module = importlib.import_module(self.module_name)
        app = module
        for part in self.attribute.split("."):
            app = getattr(app, part)
        return app

    def _reload(self):
        for name in [name for name in sys.modules if self._covered(name)]:
            del sys.modules[name]
        importlib.invalidate_caches()
        self.app = self._import()
        self.identities = self._scan()
        self.reloads += 1

    def __call__(self, environ, start_response):
        if self._scan() != self.identities:
            with self.lock:
                if self._scan() != self.identities:
                    self._reload()
        return self.app(environ, start_response)
