"""pyfresh.integrations, the API (issue 18): an integration runs inside the
reload transaction. before -> (modules cleared, app imported) -> after; a
failed reload runs undo; a failing before is undone and skipped; a failing
after fails the reload like a broken import; watch_paths are watched;
detect turns it on once, logged; the `integrations` option chooses."""

import logging
import os

import pytest

from conftest import call, write
from pyfresh import Reloader, integrations


@pytest.fixture
def recorder(app):
    """A registered integration that records its calls; unregistered after."""
    calls = []

    class Recorder(integrations.Integration):
        name = "recorder-" + app.name
        resets = "nothing, it records"
        fail_before = False
        fail_after = False
        fail_before_import = False
        watched = ()

        def detect(self):
            return True

        def before(self, ctx):
            calls.append(("before", ctx.covers(app.name + ".views")))
            self.changed = ctx.changed
            ctx.state["token"] = len(calls)
            if self.fail_before:
                raise RuntimeError("before broke")

        def before_import(self, ctx):
            calls.append(("before_import", ctx.state["token"]))
            if self.fail_before_import:
                raise RuntimeError("before_import broke")

        def after(self, ctx):
            calls.append(("after", ctx.state["token"]))
            if self.fail_after:
                raise RuntimeError("after broke")

        def undo(self, ctx):
            calls.append(("undo", ctx.state.get("token")))

        def watch_paths(self, ctx):
            return list(self.watched)

    integration = integrations.register(Recorder())
    integration.calls = calls
    yield integration
    integrations.unregister(integration.name)


def _site(app, version="v1"):
    app.write("views", "VERSION = %r\n" % version)
    app.write("wsgi", "from PKG import views\n\n"
                      "def application(environ, start_response):\n"
                      "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                      "    return [views.VERSION.encode()]\n")


def test_before_and_after_run_around_the_reload_and_share_state(app, on_path, recorder, caplog):
    _site(app)
    with caplog.at_level(logging.INFO, logger="pyfresh"):
        reloader = Reloader(app.spec(), packages=[app.name])
        assert call(reloader) == (200, "v1")
        assert recorder.calls == []  # not at start-up
        app.write("views", "VERSION = 'v2'\n")
        assert call(reloader) == (200, "v2")
    assert recorder.calls == [("before", True), ("before_import", 1), ("after", 1)]
    assert recorder.changed == (app.path("views"),)
    assert [r.getMessage() for r in caplog.records].count(
        "%s integration on: nothing, it records" % recorder.name) == 1


def test_a_failed_reload_runs_undo(app, on_path, recorder):
    _site(app)
    reloader = Reloader(app.spec(), packages=[app.name])
    app.write("views", "VERSION = (\n")
    assert call(reloader)[0] == 500
    assert recorder.calls == [("before", True), ("before_import", 1), ("undo", 1)]


def test_a_failing_before_is_undone_and_the_reload_goes_on(app, on_path, recorder, caplog):
    _site(app)
    recorder.fail_before = True
    reloader = Reloader(app.spec(), packages=[app.name])
    app.write("views", "VERSION = 'v2'\n")
    assert call(reloader) == (200, "v2")
    assert recorder.calls == [("before", True), ("undo", 1)]  # no before_import, no after
    assert any("before-reload step failed" in r.getMessage() for r in caplog.records)


def test_a_failing_after_fails_the_reload_and_undoes_it(app, on_path, recorder):
    _site(app)
    recorder.fail_after = True
    reloader = Reloader(app.spec(), packages=[app.name])
    app.write("views", "VERSION = 'v2'\n")
    status, body = call(reloader)
    assert status == 500
    assert recorder.calls == [("before", True), ("before_import", 1), ("after", 1), ("undo", 1)]
    # The old modules are back: a fix saved later reloads normally.
    recorder.fail_after = False
    app.write("views", "VERSION = 'v3'\n")
    assert call(reloader) == (200, "v3")


def test_a_failing_before_import_fails_the_reload_before_the_app_is_imported(app, on_path, recorder):
    _site(app)
    recorder.fail_before_import = True
    reloader = Reloader(app.spec(), packages=[app.name])
    app.write("views", "VERSION = 'v2'\n")
    assert call(reloader)[0] == 500
    assert recorder.calls == [("before", True), ("before_import", 1), ("undo", 1)]


def test_watch_paths_of_an_integration_are_watched(app, on_path, recorder, tmp_path):
    _site(app)
    folder = tmp_path / "tpl"
    write(str(folder / "page.html"), "one")
    recorder.watched = [str(folder)]
    reloader = Reloader(app.spec(), packages=[app.name])
    write(str(folder / "page.html"), "two")
    call(reloader)
    assert reloader.reload_count == 1
    assert reloader.last_trigger == os.path.join(str(folder), "page.html")


def test_function_style_and_registry():
    seen = []
    made = integrations.Integration.of("fn-style", detect=lambda: False, before=seen.append)
    integrations.register(made)
    try:
        assert "fn-style" in integrations.names()
        assert integrations.names()[:3] == ["django", "flask", "bottle"]
        made.before("ctx")
        assert seen == ["ctx"]
    finally:
        assert integrations.unregister("fn-style")
    assert "fn-style" not in integrations.names()
    with pytest.raises(TypeError):
        integrations.register(lambda: None)


def test_a_session_can_be_off_or_limited(recorder):
    assert integrations.Session(False).active() == []
    policy = type("P", (), {"covers": lambda self, n: False, "is_excluded": lambda self, n: False})()
    limited = integrations.Session(["django"])
    limited.detect(policy, None)
    assert recorder.name not in limited.active()
    everything = integrations.Session()
    everything.detect(policy, None)
    assert recorder.name in everything.active()


def test_the_integrations_option(app, on_path, recorder):
    from pyfresh import parse_config
    assert parse_config([("integrations", "django, flask")])["integrations"] == ["django", "flask"]
    assert parse_config([("integrations", "off")])["integrations"] == []
    assert parse_config([("integrations", "on")])["integrations"] == ["all"]
    with pytest.raises(ValueError, match="integrations=: invalid integration name 'a/b'"):
        Reloader(app.spec(), packages=[app.name], integrations=["a/b"])
    _site(app)
    for choice, expected in ((False, []), ([], []), (["django"], []), ([recorder.name], ["before"]),
                             (True, ["before"]), (None, ["before"])):
        recorder.calls.clear()
        reloader = Reloader(app.spec(), packages=[app.name], integrations=choice)
        app.write("views", "VERSION = %r\n" % repr(choice))
        assert call(reloader) == (200, repr(choice))
        assert [c[0] for c in recorder.calls if c[0] == "before"] == expected, choice
