"""Live reload (option live-reload, a development feature): open HTML pages
follow the saves by themselves.

A Reloader with the option on becomes a LiveReloading subclass of its own
class (see enable): the C Gate's fast path is untouched, and with the option
off nothing here runs. With it on, each request goes through __call__ here:

- GET <mount>/_pyfresh/token answers the change token and nothing else,
  without entering the gate: it never counts as in flight, so it never
  delays a reload's drain. It makes the check a request makes; when a
  tracked file is stale it reloads if that needs no waiting, and otherwise
  only reports the token of the stale files (see current_change_token).
- <mount>/_pyfresh/live-reload.js is the page's script.
- Every other request is served by the gate; a text/html response whose
  body can be seen whole gets the script before </body> (rules: _Response).

The change token is the greatest ctime (ns) of the files that caused this
process's latest reload, failed reload or restart (a deleted file counts
with its directory's ctime). The same save gives the same token in every
process, whatever else each one tracks, and a later save a greater one (a
ctime cannot be set back, unlike an mtime), so the page can compare tokens
from different worker processes with `>`.
"""

import hashlib
import os
import re

from . import _core
from .live_reload_client import POLL_MS, SCRIPT
from .log import logger

PREFIX = "/_pyfresh/"
TOKEN_PATH = PREFIX + "token"
SCRIPT_PATH = PREFIX + "live-reload.js"
# The script's URL carries its digest, so a browser may keep it (one
# request less per page load) and never keeps an outdated one.
SCRIPT_VERSION = hashlib.sha256(SCRIPT.encode("utf-8")).hexdigest()[:16]

# An iterable (not a list or tuple) body is read whole only when the app
# declared its size with Content-Length and that size is at most this: a
# rendered page, not a stream or a download.
MAX_BUFFERED_BODY = 4 * 1024 * 1024

# Statuses whose body is never a page to rewrite.
_UNTOUCHED_STATUSES = ("204", "206", "304")
_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
_NONCE = re.compile(r"'nonce-([A-Za-z0-9+/=_-]+)'")


def enable(reloader):
    """Turns live reload on for `reloader`: its class becomes a subclass of
    its own class with this module's request path."""
    cls = type(reloader)
    if not issubclass(cls, LiveReloading):
        subclass = _subclasses.get(cls)
        if subclass is None:
            subclass = type("LiveReloading" + cls.__name__, (LiveReloading, cls),
                            {"__module__": cls.__module__, "__doc__": cls.__doc__})
            _subclasses[cls] = subclass
        reloader.__class__ = subclass
    reloader.live_reload_token = 0
    logger.warning("live reload on for %s (a development feature: HTML pages get a script that checks "
                   "%s every %d ms and reloads them after a save; do not use it in production)",
                   reloader.spec.text, TOKEN_PATH, POLL_MS)


# Reloader class -> its LiveReloading subclass, made once per class.
_subclasses = {}


def change_token(paths):
    """The token of a change to `paths`: their greatest ctime in ns (a
    missing file: its directory's), 0 when none can be read. Not the mtime:
    it can be set to any time (touch -d, cp -p), and one set in the future
    would hide every later save."""
    token = 0
    for path in paths:
        for candidate in (path, os.path.dirname(path)):
            try:
                st = os.stat(candidate)
            except OSError:
                continue
            token = max(token, st.st_ctime_ns)
            break
    return token


class LiveReloading:
    """The request path of a Reloader with live reload on (mixed in before
    the Reloader's class by enable)."""

    live_reload_token = 0

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO") or ""
        if path.startswith(PREFIX):
            return self._live_reload_endpoint(path, environ, start_response)
        response = _Response(environ, start_response)
        result = _core.Gate.__call__(self, environ, response.start_response)
        return response.finish(result, lambda: self._live_reload_tag(environ, response))

    # -- the token ---------------------------------------------------------------

    def _reload(self, stale):
        token = change_token(stale)
        try:
            return super()._reload(stale)
        finally:
            # Set once the new code (or the error page) serves: a page that
            # reloads on it finds what the change did.
            self.live_reload_token = max(self.live_reload_token, token)

    def _restart(self, stale, causes):
        token = change_token(causes)
        try:
            return super()._restart(stale, causes)
        finally:
            self.live_reload_token = max(self.live_reload_token, token)

    def current_change_token(self):
        """This process's token after the check a request makes, so that a
        page whose checks reach a process with stale files learns of the
        change there. When nothing would make it wait (no request in flight,
        no reload in progress), the check reloads as a request would: the
        page then reloads onto new code, and a change that is no change (an
        editor's swap file in a watched directory) is dropped rather than
        reported. Otherwise it only reports the stale files' token, without
        waiting; the page's next request reloads."""
        detector = self.detector
        if not self.enabled or detector is None:
            return self.live_reload_token
        try:
            if detector.request_check():
                if self.in_flight == 0 and not self.reloading:
                    self._on_stale()
                if detector.request_check():
                    return max(self.live_reload_token, change_token(detector.stale_paths()))
        except Exception:
            logger.error("live reload: the change check failed", exc_info=True)
        return self.live_reload_token

    # -- /_pyfresh/ --------------------------------------------------------------

    def _live_reload_endpoint(self, path, environ, start_response):
        headers = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]
        if path == TOKEN_PATH:
            body = b"%d" % self.current_change_token()
            headers.append(("Content-Type", "text/plain; charset=utf-8"))
            status = "200 OK"
        elif path == SCRIPT_PATH:
            body = SCRIPT.encode("utf-8")
            headers = [("Cache-Control", "max-age=86400"), ("X-Content-Type-Options", "nosniff"),
                       ("Content-Type", "text/javascript; charset=utf-8")]
            status = "200 OK"
        else:
            body = b"not found\n"
            headers.append(("Content-Type", "text/plain; charset=utf-8"))
            status = "404 Not Found"
        headers.append(("Content-Length", str(len(body))))
        start_response(status, headers)
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]

    def _live_reload_tag(self, environ, response):
        base = (environ.get("SCRIPT_NAME") or "").rstrip("/")
        attributes = 'data-pyfresh-url="%s" data-pyfresh-token="%d"' % (
            _attribute(base + TOKEN_PATH), self.live_reload_token)
        nonce = response.script_nonce()
        if nonce:
            return ('<script nonce="%s" %s>%s</script>' % (nonce, attributes, SCRIPT)).encode("utf-8")
        # async: the page is not held up by it (document.currentScript is
        # set for async classic scripts too).
        src = "%s%s?v=%s" % (base, SCRIPT_PATH, SCRIPT_VERSION)
        return ('<script async src="%s" %s></script>' % (_attribute(src), attributes)).encode("utf-8")


def _attribute(text):
    return (text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;"))


class _Response:
    """One response on its way through live reload.

    start_response decides at once whether the response may be rewritten:
    a text/html response, not compressed (Content-Encoding), not ranged
    (206, Content-Range), not chunked by the app (Transfer-Encoding), with a
    body (not 204/304, not HEAD). Such a response's headers are held until
    the app has returned; every other response goes to the server as is.
    finish then rewrites the body when it can see it whole: a list or tuple,
    or an iterable with a Content-Length of at most MAX_BUFFERED_BODY that is
    not the server's file_wrapper. Everything else (a generator that calls
    start_response late, write(), files, big bodies) passes untouched."""

    def __init__(self, environ, start_response):
        self._server_start_response = start_response
        self._held = None      # (status, headers) not yet given to the server
        self._candidate = False
        self._returned = False
        self._files = []
        host_wrapper = environ.get("wsgi.file_wrapper")
        if host_wrapper is not None:
            # What the host's file_wrapper returns is never read here.
            def file_wrapper(filelike, *args, **kwargs):
                wrapped = host_wrapper(filelike, *args, **kwargs)
                self._files.append(wrapped)
                return wrapped
            environ["wsgi.file_wrapper"] = file_wrapper
        self._head = environ.get("REQUEST_METHOD") == "HEAD"

    def start_response(self, status, headers, exc_info=None):
        if self._held is not None and exc_info is None:
            raise AssertionError("start_response called twice without exc_info")
        self._candidate = not self._returned and not self._head and _rewritable(status, headers)
        if not self._candidate:
            self._held = None
            return self._server_start_response(status, headers, *(() if exc_info is None else (exc_info,)))
        self._held = (status, list(headers))
        return self._write

    def _write(self, data):
        # The app writes its body itself: too late to rewrite it.
        write = self._release()
        return write(data)

    def _release(self):
        status, headers = self._held
        self._held = None
        self._candidate = False
        return self._server_start_response(status, headers)

    def script_nonce(self):
        return _script_nonce(self._held[1]) if self._held else None

    def finish(self, result, make_tag):
        """The body to give the server; make_tag() gives the script tag."""
        self._returned = True
        if self._held is None:
            return result
        if not (isinstance(result, (list, tuple)) or self._may_buffer(result)):
            self._release()
            return result
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()  # the gate's response: ends the request
        status, headers = self._held
        tag = make_tag()
        match = None
        for match in _BODY_END.finditer(body):
            pass
        at = match.start() if match is not None else len(body)
        body = body[:at] + tag + body[at:]
        headers = [(name, str(len(body)) if name.lower() == "content-length" else value)
                   for name, value in headers]
        self._held = (status, headers)
        self._release()
        return [body]

    def _may_buffer(self, result):
        if any(result is f for f in self._files):
            return False
        length = _header(self._held[1], "content-length")
        try:
            return length is not None and 0 <= int(length) <= MAX_BUFFERED_BODY
        except ValueError:
            return False


def _header(headers, name):
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _rewritable(status, headers):
    if str(status)[:3] in _UNTOUCHED_STATUSES:
        return False
    content_type = (_header(headers, "content-type") or "").lower()
    if content_type.split(";")[0].strip() != "text/html":
        return False
    if "utf-16" in content_type or "utf-32" in content_type:
        return False  # an ASCII tag would not be text in that body
    for name in ("content-encoding", "content-range", "transfer-encoding"):
        value = _header(headers, name)
        if value is not None and value.strip().lower() not in ("", "identity"):
            return False
    return True


def _script_nonce(headers):
    """The nonce of the app's Content-Security-Policy for scripts, if any
    (script-src-elem, else script-src, else default-src)."""
    for key, value in headers:
        if key.lower() != "content-security-policy":
            continue
        directives = {}
        for part in value.split(";"):
            words = part.strip().split(None, 1)
            if words:
                directives.setdefault(words[0].lower(), words[1] if len(words) > 1 else "")
        for name in ("script-src-elem", "script-src", "default-src"):
            if name in directives:
                found = _NONCE.search(directives[name])
                if found:
                    return found.group(1)
                break
    return None
