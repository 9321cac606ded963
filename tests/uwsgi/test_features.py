"""Issue 7's engine features through the uWSGI plugin: zero-config scope,
reload hooks with currently_reloading(), and statistics (never over HTTP)."""

from pyfresh_testsupport.uwsgi_harness import App, write_file


def test_zero_config_infers_the_apps_packages(uwsgi, app_root):
    app = App(app_root)
    blog = app_root / "blog"
    blog.mkdir()
    (blog / "__init__.py").write_text("")
    write_file(blog / "text.py", "TEXT = 'blog-1'\n")
    write_file(app.views, "from blog.text import TEXT\n\ndef version():\n    return TEXT\n")
    uwsgi.start([("master", "true"), ("processes", "1"), ("module", app.spec)], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "blog-1"
    inferred = uwsgi.log_lines("inferred packages:")
    assert inferred and "blog" in inferred[0] and "shop" in inferred[0], uwsgi.log()
    write_file(blog / "text.py", "TEXT = 'blog-2'\n")
    assert uwsgi.get_json()["version"] == "blog-2"
    uwsgi.assert_healthy()


HOOKED_VIEWS = '''
import os
import pyfresh

GENERATION = "{generation}"
RELOADING_AT_IMPORT = pyfresh.currently_reloading()

@pyfresh.after_reload
def _note_reload():
    with open({log!r}, "a") as log:
        log.write("after %s\\n" % GENERATION)

def version():
    stats = pyfresh.stats()
    return "%s reloading-at-import=%s reloads=%d" % (GENERATION, RELOADING_AT_IMPORT, stats["reloads"])
'''


def test_hooks_currently_reloading_and_stats(uwsgi, app_root):
    app = App(app_root)
    hook_log = app_root / "hooks.log"
    write_file(app.views, HOOKED_VIEWS.format(generation="g1", log=str(hook_log)))
    uwsgi.start([("master", "true"), ("processes", "1"), ("module", app.spec),
                 ("pyfresh-packages", "shop")], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "g1 reloading-at-import=False reloads=0"
    assert not hook_log.exists()  # hooks do not run at startup
    write_file(app.views, HOOKED_VIEWS.format(generation="g2", log=str(hook_log)))
    assert uwsgi.get_json()["version"] == "g2 reloading-at-import=True reloads=1"
    # Registered once per generation: the old module's hook was dropped.
    assert hook_log.read_text().splitlines() == ["after g2"]
    write_file(app.views, HOOKED_VIEWS.format(generation="g3", log=str(hook_log)))
    assert uwsgi.get_json()["version"] == "g3 reloading-at-import=True reloads=2"
    assert hook_log.read_text().splitlines() == ["after g2", "after g3"]
    uwsgi.assert_healthy()


def test_no_url_exposes_stats_or_config(uwsgi, app_root):
    app = App(app_root)
    uwsgi.start([("master", "true"), ("processes", "1"), ("module", app.spec),
                 ("pyfresh-packages", "shop")], pythonpath=[app_root])
    app.set_version("v2")
    for path in ("/pyfresh", "/pyfresh/stats", "/__pyfresh__", "/stats", "/?pyfresh=reload", "/config"):
        response = uwsgi.get(path)
        assert response.status == 200
        body = response.json()
        # Every path is the app's own answer; nothing of pyfresh's.
        assert body["app"] == "shop" and body["version"] == "v2"
        assert "reloads" not in response.text and "packages" not in response.text


IGNORING_VIEWS = '''
import os
import pyfresh

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")
NAMES = ",".join(sorted(os.listdir(TEMPLATES)))

def version():
    return "%s reloads=%d" % (NAMES, pyfresh.stats()["reloads"])
'''


def test_watch_ignore_skips_matching_names_in_a_watched_directory(uwsgi, app_root):
    """pyfresh-watch-ignore (repeated): files named `*.bak` or `draft-*`
    appearing, rewritten and removed in a pyfresh-watch directory reload
    nothing, and the built-in editor list still holds; a new template
    reloads."""
    app = App(app_root)
    templates = app_root / "templates"
    templates.mkdir()
    write_file(templates / "page.html", "page\n")
    write_file(app.views, IGNORING_VIEWS)
    uwsgi.start([("master", "true"), ("processes", "1"), ("module", app.spec), ("pyfresh-packages", "shop"),
                 ("pyfresh-watch", "templates"), ("pyfresh-watch-ignore", "*.bak"),
                 ("pyfresh-watch-ignore", "draft-*")], pythonpath=[app_root])
    assert uwsgi.get_json()["version"] == "page.html reloads=0"
    for name in ("page.html.bak", "draft-1.html", ".page.html.swp"):
        write_file(templates / name, "noise\n")
        assert uwsgi.get_json()["version"] == "page.html reloads=0", name
    write_file(templates / "page.html.bak", "rewritten\n")
    (templates / "draft-1.html").unlink()
    for _ in range(3):
        assert uwsgi.get_json()["version"] == "page.html reloads=0"
    write_file(templates / "new.html", "new\n")
    assert uwsgi.get_json()["version"] == ".page.html.swp,new.html,page.html,page.html.bak reloads=1"
    uwsgi.assert_healthy()
