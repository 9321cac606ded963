"""The glue between a server and the engine, one module per host.

* :mod:`pyfresh.hosts.uwsgi`: the Python side of ``pyfresh_plugin.so``;
* :mod:`pyfresh.hosts.mod_wsgi`: the WSGI entry point behind Apache's
  mod_pyfresh (the installed ``pyfresh.wsgi`` imports its ``application``);
* :mod:`pyfresh.hosts.serve`: the development server, ``python3 -m pyfresh.serve``.

Hosts stay thin: they hand the engine (pyfresh.Reloader) the options and
what the server provides (a loaded app, a restart handler, a log channel),
and call only its public methods.
"""
