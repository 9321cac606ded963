"""The host glue lives in pyfresh/hosts/; the entry points documented
before the move still work: `python3 -m pyfresh.serve`, `from
pyfresh.mod_wsgi_entry import application` (pyfresh.wsgi scripts installed
by earlier versions, users' own .wsgi files) and
`pyfresh.uwsgi_host.reloaders()` (docs/uwsgi.md)."""

import os
import subprocess
import sys

from conftest import PYTHON, clean_env


def test_the_old_module_names_are_the_hosts():
    from pyfresh.hosts import mod_wsgi, uwsgi
    from pyfresh.mod_wsgi_entry import ENVIRON_KEY, application
    from pyfresh.uwsgi_host import reloaders, serve_unloaded, wrap

    assert application is mod_wsgi.application and ENVIRON_KEY == mod_wsgi.ENVIRON_KEY
    assert (reloaders, wrap, serve_unloaded) == (uwsgi.reloaders, uwsgi.wrap, uwsgi.serve_unloaded)


def test_python_m_pyfresh_serve_runs_the_dev_server():
    pythonpath = os.environ.get("PYTHONPATH", "") or os.path.dirname(os.path.dirname(sys.modules["pyfresh"].__file__))
    result = subprocess.run([PYTHON, "-m", "pyfresh.serve", "--help"], capture_output=True, text=True,
                            env=clean_env(pythonpath), timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python3 -m pyfresh.serve")
