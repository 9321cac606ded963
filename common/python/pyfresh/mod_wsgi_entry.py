"""Compatibility: the mod_wsgi entry point lives in pyfresh.hosts.mod_wsgi.

``from pyfresh.mod_wsgi_entry import application`` is what pyfresh.wsgi
scripts installed by earlier versions (and users' own .wsgi files) say.
"""

from .hosts.mod_wsgi import ENVIRON_KEY, application

__all__ = ["ENVIRON_KEY", "application"]
