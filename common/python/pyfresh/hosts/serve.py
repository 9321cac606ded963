"""A threaded development server for a pyfresh-wrapped app, on any machine.

    python3 -m pyfresh.serve mysite.wsgi:application --packages mysite blog \\
        --exclude mysite.settings --debug --port 8000 --watch templates .env

Without --packages the app's own packages are inferred. With --restart-on (or a
changed compiled extension) the server exits with status 75: run it under
`python3 -m pyfresh.run -- python3 -m pyfresh.serve ...` to be relaunched.

Prints "PORT <n>" when listening (port 0 picks a free one)."""

import argparse
import socketserver
import sys
import wsgiref.simple_server

from ..config import Options
from ..reloader import Reloader


class _QuietHandler(wsgiref.simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, wsgiref.simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m pyfresh.serve", description=__doc__.split("\n")[0])
    parser.add_argument("app", help='the WSGI callable, "package.module:callable" or a .wsgi/.py file')
    parser.add_argument("--packages", nargs="+", default=None,
                        help="package prefixes to reload (default: inferred from what the app imports)")
    parser.add_argument("--exclude", nargs="+", default=None, help="modules kept across reloads")
    parser.add_argument("--debug", action="store_true", help="error pages with the traceback")
    parser.add_argument("--poll-interval", type=float, default=None, help="force stat polling (seconds)")
    parser.add_argument("--drain-timeout", type=float, default=None,
                        help="seconds a reload waits for running requests (default 1)")
    parser.add_argument("--integrations", nargs="+", default=None,
                        help="framework integrations: on (default), off, or names (django flask bottle)")
    parser.add_argument("--reload-scope", default=None, metavar="packages|dependents",
                        help="what a reload clears: every module of the packages (default) or the changed "
                             "modules and those importing them")
    parser.add_argument("--watch", nargs="+", action="extend", default=None,
                        help="files, directories or glob patterns whose change reloads the app")
    parser.add_argument("--restart-on", nargs="+", action="extend", default=None,
                        help="files, directories or glob patterns whose change restarts the server (exit 75)")
    parser.add_argument("--watch-ignore", nargs="+", action="extend", default=None, metavar="PATTERN",
                        help="file names (fnmatch patterns such as '*.bak') that --watch and --restart-on skip, "
                             "besides editors' and VCS files")
    parser.add_argument("--live-reload", action="store_true",
                        help="open pages reload by themselves after a save (development only)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--path", action="append", default=[], help="prepend to sys.path")
    args = parser.parse_args(argv)
    sys.path[:0] = args.path

    # Typed values (argparse converted them), named as typed here (--watch).
    options = Options(spelling="command-line", app=args.app, packages=args.packages, exclude=args.exclude,
                      debug=args.debug, poll_interval=args.poll_interval, drain_timeout=args.drain_timeout,
                      watch=args.watch, watch_ignore=args.watch_ignore, live_reload=args.live_reload or None,
                      restart_on=args.restart_on, integrations=args.integrations, reload_scope=args.reload_scope)
    # Broken code at startup: serve the error page, then the fix once saved.
    application = Reloader.from_config(options, raise_on_load_error=False)
    server = wsgiref.simple_server.make_server(args.host, args.port, application,
                                               server_class=_ThreadingServer, handler_class=_QuietHandler)
    print("PORT %d" % server.server_port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
