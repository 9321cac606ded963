"""Option validation from Python: the same core code the hosts use."""

import pytest

import pyfresh

BAD = [
    (dict(packages=["my app"]), "my app"),
    (dict(packages=["1abc"]), "1abc"),
    (dict(packages=[""]), "''"),
    (dict(packages=["a..b"]), "a..b"),
    (dict(exclude=["bad name"]), "bad name"),
    (dict(poll_interval=-1), "poll"),
    (dict(drain_timeout=-1), "drain_timeout=: invalid value '-1.0'"),
    (dict(drain_timeout=86401), "drain_timeout=: invalid value '86401.0'"),
    (dict(drain_timeout="forever"), "drain_timeout=: invalid value 'forever'"),
    (dict(drain_timeout=float("nan")), "drain_timeout=: invalid value 'nan'"),
    (dict(watch_ignore=["templates/*.bak"]), "watch_ignore=: pattern 'templates/*.bak' contains '/'"),
    (dict(watch_ignore=[""]), "watch_ignore=: empty pattern"),
    (dict(watch_ignore=["a\x01b"]), "watch_ignore=: value 'a\\x01b' contains a control character"),
    (dict(integrations=["dj/ango"]), "integrations=: invalid integration name 'dj/ango'"),
    (dict(integrations=""), "integrations=: invalid value ''"),
    (dict(integrations=["caf\xe9"]), "integrations=: invalid integration name 'caf\\xc3\\xa9'"),
]


@pytest.mark.parametrize("kwargs,fragment", BAD)
def test_bad_python_arguments_name_the_value(app, on_path, kwargs, fragment):
    app.write("wsgi", "def application(e, s):\n    return []\n")
    with pytest.raises(pyfresh.ConfigError) as info:
        pyfresh.Reloader(app.spec(), **kwargs)
    assert fragment in str(info.value)


@pytest.mark.parametrize("spec", ["my app:application", "a:b:c", "pkg.mod:", ":app", "", "pkg.1mod:app"])
def test_bad_app_spec_is_quoted(spec):
    with pytest.raises(pyfresh.ConfigError) as info:
        pyfresh.Reloader(spec)
    assert repr(spec)[1:-1] in str(info.value) or spec == ""


def test_host_pairs_use_the_display_name_in_errors():
    with pytest.raises(pyfresh.ConfigError, match="PyFreshPackages"):
        pyfresh.parse_config([("packages", "ok bad-name", "PyFreshPackages")])


def test_unknown_option_is_named():
    with pytest.raises(pyfresh.ConfigError, match="frobnicate"):
        pyfresh.parse_config([("frobnicate", "1")])


def test_parse_config_values():
    options = pyfresh.parse_config([("packages", "a, b"), ("packages", "c"), ("exclude", "a.settings"),
                                    ("debug", "on"), ("poll-interval", "250ms"), ("app", "a.wsgi:app"),
                                    ("enabled", "off")])
    assert options == {"packages": ["a", "b", "c"], "exclude": ["a.settings"], "debug": True,
                       "poll_interval": 0.25, "app": "a.wsgi:app", "enabled": False}


def test_serialized_config_round_trips():
    pairs = [("packages", "a b"), ("exclude", "a.settings"), ("app", "a.wsgi:application"), ("debug", "yes")]
    text = pyfresh.serialize_config(pairs)
    assert pyfresh.parse_serialized_config(text) == pyfresh.parse_config(pairs)


def test_from_config_builds_a_reloader(app, on_path):
    app.write("wsgi", "def application(environ, start_response):\n"
                      "    start_response('200 OK', [])\n    return [b'hi']\n")
    reloader = pyfresh.Reloader.from_config([("app", app.spec()), ("packages", app.name), ("debug", "on")])
    assert reloader.debug is True and reloader.packages == [app.name]
    from conftest import call
    assert call(reloader) == (200, "hi")


def test_missing_app_is_a_config_error():
    with pytest.raises(pyfresh.ConfigError, match="no app"):
        pyfresh.Reloader.from_config([("packages", "a")])


# -- one options object, typed, keeping the host's spelling ------------------------


def test_typed_python_arguments_reach_the_core_as_they_are(app, on_path):
    """No text round trip: 1e-07 printed by repr() ("1e-07") was refused
    by the seconds parser; the float and the bool arrive as they are."""
    app.write("wsgi", "def application(e, s):\n    return []\n")
    reloader = pyfresh.Reloader(app.spec(), poll_interval=1e-07, drain_timeout=0.1, debug=True)
    options = reloader.options
    assert type(options.poll_interval) is float and options.poll_interval == 1e-07
    assert reloader.poll_interval == 1e-07
    assert options.drain_timeout == 0.1 and reloader.drain_timeout == 0.1
    assert options.debug is True and reloader.debug is True
    assert options.enabled is True and options.packages is None


def test_options_attributes_are_typed_and_read_only():
    options = pyfresh.Options(app="a.wsgi:app", packages=["a", "b"], exclude="a.settings", integrations=[],
                              watch="templates", live_reload=False)
    assert options.packages == ["a", "b"] and options.exclude == ["a.settings"]
    assert options.integrations == [] and options.watch == ["templates"] and options.live_reload is False
    assert options.as_dict() == {"app": "a.wsgi:app", "packages": ["a", "b"], "exclude": ["a.settings"],
                                 "integrations": [], "watch": ["templates"], "live_reload": False}
    with pytest.raises(AttributeError):
        options.debug = True
    with pytest.raises(TypeError, match="unexpected keyword argument 'frobnicate'"):
        pyfresh.Options(frobnicate=1)
    with pytest.raises(TypeError, match="watch must be paths"):
        pyfresh.Options(watch=[3])
    with pytest.raises(pyfresh.ConfigError, match="^poll_interval=: expects a number of seconds"):
        pyfresh.Options(poll_interval=True)
    with pytest.raises(ValueError, match="unknown spelling 'nginx'"):
        pyfresh.Options.from_pairs([], spelling="nginx")


ORIGINS = [
    # (how the options were built, option, its spelling in messages)
    (lambda: pyfresh.Options(watch=["t"]), "watch", "watch="),
    (lambda: pyfresh.Options(watch=["t"]), "drain-timeout", "drain-timeout"),  # not passed: the core's name
    (lambda: pyfresh.Options(spelling="command-line", watch=["t"]), "watch", "--watch"),
    (lambda: pyfresh.Options.from_pairs([("watch", "t")], spelling="uwsgi"), "watch", "pyfresh-watch"),
    (lambda: pyfresh.Options.from_pairs([("watch", "t")], spelling="uwsgi"), "drain_timeout",
     "pyfresh-drain-timeout"),
    (lambda: pyfresh.Options.from_pairs([("watch", "t", "my-watch")]), "watch", "my-watch"),
    (lambda: pyfresh.Options.from_serialized("watch=t\n"), "watch", "PyFreshWatch"),
    (lambda: pyfresh.Options.from_serialized("watch=t\n"), "poll-interval", "PyFreshPollInterval"),
    (lambda: pyfresh.Options.from_serialized("enabled=off\n"), "enabled", "PyFresh"),
]


@pytest.mark.parametrize("build,option,spelling", ORIGINS)
def test_each_option_keeps_the_spelling_it_came_as(build, option, spelling):
    assert build().origin_of(option) == spelling


def test_merged_options_keep_each_values_spelling():
    parent = pyfresh.Options.from_pairs([("packages", "a"), ("debug", "on")], spelling="uwsgi")
    child = pyfresh.Options(spelling="command-line", debug=False)
    merged = parent.merged(child)
    assert merged.packages == ["a"] and merged.debug is False
    assert merged.origin_of("packages") == "pyfresh-packages" and merged.origin_of("debug") == "--debug"
    assert pyfresh.Options.from_serialized(merged.serialize()) == merged


def test_uwsgi_watch_reaching_too_far_is_named_as_uwsgi_spells_it(app, on_path):
    """The plugin's pairs (here without their display names) are read by
    the core once; the engine's own message names pyfresh-watch, not the
    Python keyword watch=."""
    from pyfresh.hosts import uwsgi as uwsgi_host
    from pyfresh.watch import WatchTooLarge

    app.write("wsgi", "def application(e, s):\n    return []\n")
    with pytest.raises(WatchTooLarge, match="^pyfresh-watch '/usr' reaches more than"):
        uwsgi_host.serve_unloaded([("app", app.spec()), ("watch", "/usr")])
    with pytest.raises(pyfresh.ConfigError, match="^pyfresh-drain-timeout: invalid value 'soon'"):
        uwsgi_host.serve_unloaded([("app", app.spec()), ("drain-timeout", "soon")])


def test_apache_config_text_is_parsed_once(app, on_path, monkeypatch):
    """mod_wsgi_entry reads PYFRESH_CONFIG into Options once per distinct
    text and hands that object to the Reloader, which re-parses nothing."""
    from conftest import RELOAD_SCOPE
    from pyfresh.hosts import mod_wsgi as mod_wsgi_entry

    app.write("wsgi", "def application(environ, start_response):\n"
                      "    start_response('200 OK', [])\n    return [b'hi']\n")
    parsed = []
    original = mod_wsgi_entry._parse_options
    monkeypatch.setattr(mod_wsgi_entry, "_parse_options", lambda text: parsed.append(original(text)) or parsed[-1])
    text = pyfresh.serialize_config([("app", app.spec()), ("packages", app.name), ("drain-timeout", "2s")])
    environ = {"PATH_INFO": "/", "REQUEST_METHOD": "GET", "PYFRESH_CONFIG": text}
    try:
        for _ in range(3):
            assert b"".join(mod_wsgi_entry.application(dict(environ), lambda status, headers: None)) == b"hi"
        reloader = mod_wsgi_entry._apps[text]
        assert len(parsed) == 1
        # (The dependents run of this suite gives each Reloader a merged copy.)
        assert reloader.options is parsed[0] or RELOAD_SCOPE
        assert reloader.drain_timeout == 2.0 and reloader.options.origin_of("drain-timeout") == "PyFreshDrainTimeout"
    finally:
        mod_wsgi_entry._apps.pop(text, None)
