"""pyfresh's features from Python: a wsgi.py for any WSGI server.

Run it under the supervisor, so that a change that needs a fresh process
(requirements.txt here, or a compiled extension under your packages)
restarts the server instead of leaving old code running:

    python3 -m pyfresh.run -- gunicorn --threads 4 wsgi:application
    python3 -m pyfresh.run -- python3 -m pyfresh.serve mysite.wsgi:application \\
        --watch templates ".env*" --restart-on requirements.txt

The same options exist for every host: uWSGI `pyfresh-watch` /
`pyfresh-restart-on`, Apache `PyFreshWatch` / `PyFreshRestartOn`.
"""

import logging

import pyfresh

application = pyfresh.Reloader(
    "mysite.wsgi:application",
    # No packages=: inferred. Every package the app imports from outside the
    # standard library and site/dist-packages is reloaded (logged at
    # startup as "inferred packages: blog, mysite").
    exclude=["mysite.settings"],
    # Relative to the app's directory (the sys.path entry holding `mysite`):
    # a directory (recursive; new files count), a glob, a single file.
    watch=["templates", ".env*", "config/site.toml"],
    # Exit with status 75 when these change; pyfresh.run starts it again.
    restart_on=["requirements.txt"],
    debug=True,
)


# Optional: what to do instead of exiting when a restart is needed.
def tell_me(reason):
    logging.getLogger("mysite").warning("please restart me: %s", reason)


# application.restart_handler = tell_me


# --- in your app's code (e.g. mysite/db.py) -----------------------------------------
#
#     import pyfresh
#     from sqlalchemy import create_engine
#
#     # Keep the engine across reloads: this module is re-imported on every
#     # reload; previous_module() is its version from before the reload.
#     _old = pyfresh.previous_module(__name__)
#     engine = _old.engine if _old is not None else create_engine(DATABASE_URL)
#
#     @pyfresh.before_reload          # old code, before any module is cleared
#     def close_sessions():
#         Session.remove()
#
#     @pyfresh.after_reload           # the new app is loaded
#     def reset_registry():
#         registry.clear()
#
#     if pyfresh.currently_reloading():
#         log.info("db module re-imported by a reload")
#
# --- counters (never served over HTTP unless you mount them yourself) ---------------
#
#     pyfresh.stats()       # {'reloads': 3, 'failures': 1, 'restarts': 0,
#                           #  'last_reload_ms': 4.2, 'last_trigger': '/srv/mysite/blog/views.py', ...}
#     application.stats()   # the same for this Reloader alone
