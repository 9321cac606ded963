"""The engine imports and reloads inside sub-interpreters (mod_wsgi
application groups, uWSGI mountpoints) and never hangs there."""

import os
import subprocess
import textwrap

from conftest import clean_env

# Runs in each interpreter: serve, edit, serve the new code.
INTERPRETER_CODE = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, ROOT)
    sys.dont_write_bytecode = False
    import pyfresh
    path = os.path.join(ROOT, NAME, "wsgi.py")

    def save(word):
        before = os.stat(path).st_mtime_ns
        with open(path, "w") as f:
            f.write("def application(e, s):\\n    s('200 OK', [])\\n    return [%r]\\n" % word.encode())
        os.utime(path, ns=(before + 5000, before + 5000))

    def call(reloader):
        # Settle the race between this thread's save and the detector's
        # monitor thread (conftest.call does the same).
        reloader.detector.check()
        statuses = []
        body = b"".join(reloader({}, lambda status, headers, exc_info=None: statuses.append(status)))
        return statuses[0], body

    save("one")
    reloader = pyfresh.Reloader(NAME + ".wsgi:application")
    assert call(reloader) == ("200 OK", b"one"), call(reloader)
    save("two")
    assert call(reloader) == ("200 OK", b"two"), call(reloader)
""")

DRIVER = textwrap.dedent("""
    import sys
    try:  # Python 3.13: _interpreters; "legacy" shares the main GIL, as
          # mod_wsgi's and uWSGI's sub-interpreters do
        import _interpreters as interpreters

        def create():
            return interpreters.create("legacy")

        def run(interpreter, code):
            failure = interpreters.run_string(interpreter, code)  # returns, never raises
            if failure is not None:
                raise RuntimeError(failure)
    except ImportError:  # Python 3.11, 3.12
        import _xxsubinterpreters as interpreters
        create, run = interpreters.create, interpreters.run_string
    root, name, code = sys.argv[1], sys.argv[2], sys.argv[3]
    preamble = "ROOT = %r\\nNAME = %r\\n" % (root, name)
    for _ in range(2):
        interpreter = create()
        run(interpreter, preamble + code)
        interpreters.destroy(interpreter)
    exec(preamble + code)  # and the main interpreter after them
    print("ok")
""")


def test_reloader_works_in_sub_interpreters(app):
    app.write("wsgi", "")
    result = subprocess.run(
        ["/usr/bin/python3", "-c", DRIVER, app.root, app.name, INTERPRETER_CODE],
        env=clean_env(os.environ.get("PYTHONPATH", "")), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
