"""The response served while the code cannot be loaded.

Building it must never fail: it runs while a reload is being undone, with
an exception that may refuse to be turned into text (a __str__ that
raises) and paths that are not valid text (a non-UTF-8 directory name, or
any non-ASCII one in a process whose locale is C). Every piece of text goes
through _text(); if the page still cannot be built, a minimal one is served.
"""

import html
import importlib
import os
import traceback

_GENERIC_BODY = (
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>500 Internal Server Error</title></head>\n"
    "<body><h1>Internal Server Error</h1>\n"
    "<p>The application could not be reloaded after a code change. "
    "The error is in the server log.</p></body></html>\n"
).encode("utf-8")

# Frames of these directories (and importlib's frozen modules) are the
# machinery between the reload and the user's code: folded in debug pages.
_MACHINERY_DIRS = tuple(os.path.dirname(os.path.abspath(path)) + os.sep
                        for path in (importlib.__file__, __file__))


class ErrorApp:
    """A WSGI app answering 500 with the load error.

    With debug it shows the exception, the file and line, and the user's
    frames of the traceback; without it a generic page that leaks no path
    or source. The constructor never raises for a bad exception or path:
    it falls back to the generic page (see minimal())."""

    def __init__(self, exc, spec_text, debug):
        # The exception itself is not kept: its traceback holds the frames
        # and globals of the failed generation.
        self.exception_type = _text(type(exc).__name__)
        self.summary = summarize(exc)
        self.body = _GENERIC_BODY
        if debug:
            try:
                self.body = _debug_body(exc, spec_text)
            except Exception as error:  # the page is a convenience; the log has the error
                self.body = _GENERIC_BODY
                self.page_error = "%s: %s" % (type(error).__name__, _text(error))

    @classmethod
    def minimal(cls, summary="the application could not be loaded"):
        """The generic page, built without touching the exception."""
        app = cls.__new__(cls)
        app.exception_type = "Exception"
        app.summary = summary
        app.body = _GENERIC_BODY
        return app

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
    """One line: the exception, and where it happened. Never raises."""
    try:
        where = _location(exc)
    except Exception:
        where = ""
    text = "%s: %s" % (_text(type(exc).__name__), _text(exc))
    return "%s (%s)" % (text, where) if where else text


def _text(obj):
    """str(obj) as valid text: a __str__ that raises gives a placeholder
    (as in tracebacks), undecodable bytes (surrogates) become the
    characters they encode, or U+FFFD."""
    try:
        text = obj if isinstance(obj, str) else str(obj)
    except Exception as error:
        try:
            return "<%s.__str__ failed: %s>" % (type(obj).__name__, type(error).__name__)
        except Exception:
            return "<str() failed>"
    if not isinstance(text, str):
        return "<str() returned %s>" % type(text).__name__
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # surrogates that are no escaped bytes
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _location(exc):
    if isinstance(exc, SyntaxError) and exc.filename:
        return "%s, line %s" % (_text(exc.filename), exc.lineno)
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        last = frames[-1]
        return "%s, line %s" % (_text(last.filename), last.lineno)
    return ""


def _is_machinery(frame):
    filename = frame.filename
    return filename.startswith("<frozen importlib") or filename.startswith(_MACHINERY_DIRS)


class _FoldedStack(traceback.StackSummary):
    """Formats the user's frames; each run of pyfresh's and importlib's
    frames becomes one line saying how many were folded."""

    def format(self, **options):
        # options: what this Python's TracebackException passes (3.13: colorize)
        lines = []
        run = []
        folded = 0

        def flush_user():
            if run:
                lines.extend(traceback.StackSummary.from_list(run).format(**options))
                run.clear()

        for frame in self:
            if _is_machinery(frame):
                flush_user()
                folded += 1
                continue
            if folded:
                lines.append("  [%d frame%s of pyfresh and importlib folded]\n"
                             % (folded, "" if folded == 1 else "s"))
                folded = 0
            run.append(frame)
        flush_user()
        if folded:
            lines.append("  [%d frame%s of pyfresh and importlib folded]\n"
                         % (folded, "" if folded == 1 else "s"))
        return lines


def format_user_traceback(exc):
    """The traceback text (chained exceptions too) with the machinery's
    frames folded."""
    report = traceback.TracebackException.from_exception(exc)
    seen = set()
    pending = [report]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.stack = _FoldedStack(current.stack)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        pending.extend(getattr(current, "exceptions", None) or ())
    return "".join(report.format())


def _debug_body(exc, spec_text):
    e = lambda value: html.escape(_text(value))  # noqa: E731
    name = _text(type(exc).__name__)
    parts = [
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pyfresh: %s</title>" % e(name),
        "<style>body{font-family:sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em;overflow:auto}"
        ".where{color:#a00}</style></head><body>",
        "<h1>%s</h1>" % e(name),
        "<p>Reloading <code>%s</code> failed: <strong>%s</strong></p>" % (e(spec_text), e(exc)),
    ]
    where = _location(exc)
    if where:
        parts.append("<p class=\"where\">%s</p>" % e(where))
    if isinstance(exc, SyntaxError) and exc.text:
        caret = ""
        if exc.offset:
            caret = "\n" + " " * (max(exc.offset, 1) - 1) + "^"
        parts.append("<pre>%s%s</pre>" % (e(exc.text.rstrip("\n")), e(caret)))
    parts.append("<h2>Traceback</h2><pre>%s</pre>" % e(format_user_traceback(exc)))
    parts.append("<p>Save a fix and reload this page.</p></body></html>\n")
    return "\n".join(parts).encode("utf-8")
