"""Compatibility: the uWSGI host lives in pyfresh.hosts.uwsgi.

``pyfresh.uwsgi_host.reloaders()`` is documented (docs/uwsgi.md); wrap() and
serve_unloaded() are what a pyfresh_plugin.so built before the move calls.
"""

from .hosts.uwsgi import reloaders, serve_unloaded, wrap

__all__ = ["reloaders", "serve_unloaded", "wrap"]
