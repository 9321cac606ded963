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
