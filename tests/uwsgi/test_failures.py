"""Issue 11 under uWSGI: failures are answered, never silently wrong."""

import pytest

import uwsgi_harness
from uwsgi_harness import App, write_file

UNPRINTABLE = """
class Unprintable(Exception):
    def __str__(self):
        raise ValueError("no text for you")

raise Unprintable()
"""


@pytest.fixture
def lang_c(monkeypatch):
    """uWSGI started as Debian's init scripts do: LANG=C."""
    plain = uwsgi_harness.clean_env

    def env():
        values = plain()
        values["LANG"] = "C"
        return values

    monkeypatch.setattr(uwsgi_harness, "clean_env", env)


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
def test_exception_whose_str_raises_is_answered_with_the_error_page(uwsgi, app_root, debug):
    app = App(app_root)
    options = [("master", "true"), ("module", app.spec), ("pyfresh-debug", "on" if debug else "off")]
    uwsgi.start(options, pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "v1"
    write_file(app.views, UNPRINTABLE)
    response = uwsgi.get()
    assert response.status == 500, response
    assert response.headers.get("X-PyFresh-Error") == "load-failed"
    assert ("Unprintable" in response.text) == debug
    assert uwsgi.log_lines("Unprintable"), "the original error is not in the log"
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"
    uwsgi.assert_healthy()


def test_debug_page_of_a_project_under_a_non_ascii_path_with_lang_c(uwsgi, tmp_path, lang_c):
    """/home/josé/site under LANG=C: Python sees the path as undecodable
    bytes; the debug page is still built (it was a bare 500 before)."""
    root = tmp_path / "home" / "josé" / "site"
    root.mkdir(parents=True)
    app = App(root)
    script = root / "site.wsgi"
    script.write_text("import os, sys\nsys.path.insert(0, os.path.dirname(__file__))\n"
                      "from shop.wsgi import application\n")
    uwsgi.start([("master", "true"), ("wsgi-file", str(script)), ("pyfresh-packages", "shop"),
                 ("pyfresh-debug", "on")])
    assert uwsgi.get_json()["version"] == "v1"
    write_file(app.views, "raise RuntimeError('half saved')\n")
    response = uwsgi.get()
    assert response.status == 500, response
    assert "RuntimeError" in response.text and "half saved" in response.text
    assert "/home/jos\u00e9/site/shop/views.py" in response.text, response.text
    assert uwsgi.log_lines("half saved")
    app.set_version("v2")
    assert uwsgi.get_json()["version"] == "v2"
    uwsgi.assert_healthy()
