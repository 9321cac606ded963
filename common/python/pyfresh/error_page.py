"""The response served while the code cannot be loaded."""

import html
import traceback

_GENERIC_BODY = (
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>500 Internal Server Error</title></head>\n"
    "<body><h1>Internal Server Error</h1>\n"
    "<p>The application could not be reloaded after a code change. "
    "The error is in the server log.</p></body></html>\n"
).encode("utf-8")


class ErrorApp:
    """A WSGI app answering 500 with the load error.

    With debug it shows the exception, the file and line, and the
    traceback; without it a generic page that leaks no path or source.
    """

    def __init__(self, exc, spec_text, debug):
        # The exception itself is not kept: its traceback holds the frames
        # and globals of the failed generation.
        self.exception_type = type(exc).__name__
        self.summary = summarize(exc)
        self.body = _debug_body(exc, spec_text) if debug else _GENERIC_BODY

    def __call__(self, environ, start_response):
        start_response(
            "500 Internal Server Error",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(self.body))),
                ("Cache-Control", "no-store"),
                ("X-PyFresh-Error", "load-failed"),
            ],
        )
        return [self.body]


def summarize(exc):
    """One line: the exception, and where it happened."""
    where = _location(exc)
    text = "%s: %s" % (type(exc).__name__, exc)
    return "%s (%s)" % (text, where) if where else text


def _location(exc):
    if isinstance(exc, SyntaxError) and exc.filename:
        return "%s, line %s" % (exc.filename, exc.lineno)
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        return "%s, line %s" % (last.filename, last.lineno)
    return ""


def _debug_body(exc, spec_text):
    e = html.escape
    parts = [
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pyfresh: %s</title>" % e(type(exc).__name__),
        "<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em;overflow:auto}"
        ".where{color:#a00}</style></head><body>",
        "<h1>%s</h1>" % e(type(exc).__name__),
        "<p>Reloading <code>%s</code> failed: <strong>%s</strong></p>" % (e(spec_text), e(str(exc))),
    ]
    where = _location(exc)
    if where:
        parts.append("<p class=\"where\">%s</p>" % e(where))
    if isinstance(exc, SyntaxError) and exc.text:
        caret = ""
        if exc.offset:
            caret = "\n" + " " * (max(exc.offset, 1) - 1) + "^"
        parts.append("<pre>%s%s</pre>" % (e(exc.text.rstrip("\n")), e(caret)))
    parts.append("<h2>Traceback</h2><pre>%s</pre>" % e("".join(traceback.format_exception(exc))))
    parts.append("<p>Save a fix and reload this page.</p></body></html>\n")
    return "\n".join(parts).encode("utf-8")
