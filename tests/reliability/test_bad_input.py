"""Bad input: every uWSGI option (pyfresh-*) and Apache directive
(PyFresh*) with malformed, empty, huge (100 KB) and hostile values (paths,
'..', shell metacharacters, non-UTF-8, control bytes).

What each value must do follows the documented rules (README "Options",
docs/uwsgi.md, docs/apache.md):

* a value the rules refuse: uWSGI exits non-zero with ONE log line that
  names the option (`pyfresh: pyfresh-packages: ...`), short (values are
  quoted cut to 200 bytes); `apache2 -t` fails naming the directive;
* a value the rules accept (path values are kept verbatim, a file app spec
  is any path): the server starts and serves, nothing in the value is ever
  executed (shell metacharacters create no marker file), no crash.

Never: a signal, a Python traceback, a core dump, a hang.
"""

import os
import subprocess
import time

import pytest

from leaks import leaks
from rel_common import UwsgiTarget, apache_harness, kill_group, request, wait_until

MAX_LINE = 2000
HUGE = 100_000

# -- values -------------------------------------------------------------------------

# @MARKER@ is replaced by a file path that must never be created.
NAMES_REFUSED = [
    ("empty", b""), ("dash", b"my-app"), ("empty component", b"a..b"), ("leading dot", b".a"),
    ("digit first", b"1abc"), ("keyword", b"class"), ("dotdot path", b"../../etc"), ("absolute path", b"/etc/passwd"),
    ("shell subst", b"$(touch @MARKER@)"), ("backticks", b"`touch @MARKER@`"), ("semicolon", b"a;touch @MARKER@"),
    ("pipe", b"a|touch @MARKER@"), ("ampersands", b"a&&b"), ("quotes", b"'a'\"b\""), ("glob", b"a*"),
    ("non-utf8", b"\xff\xfe"), ("latin-1", b"caf\xe9"), ("control byte", b"a\x01b"),
    ("huge", b"a" * HUGE), ("huge dotted", (b"abc." * (HUGE // 4)) + b"abc"), ("huge junk", b"-" * HUGE),
]
FLAGS_REFUSED = [
    ("word", b"perhaps"), ("number", b"2"), ("shell subst", b"$(touch @MARKER@)"), ("non-utf8", b"\xff"),
    ("huge", b"on" * (HUGE // 2)), ("control byte", b"o\x01n"),
]
INTERVALS_REFUSED = [
    ("empty", b""), ("negative", b"-1"), ("exponent", b"1e3"), ("nan", b"nan"), ("inf", b"inf"),
    ("unit", b"5 minutes"), ("over a day", b"86401"), ("huge", b"9" * HUGE), ("shell subst", b"$(touch @MARKER@)"),
    ("non-utf8", b"1\xff"), ("two dots", b"1.2.3"), ("control byte", b"1\x01"),
]
APPS_REFUSED = [
    ("empty", b""), ("dash", b"my-app:application"), ("two colons", b"a:b:c"), ("bad callable", b"a.b:my-app"),
    ("trailing colon", b"a.b:"), ("directory", b"/srv/site/"), ("shell subst", b"$(id)"), ("backticks", b"`id`"),
    ("non-utf8 module", b"caf\xe9.wsgi"), ("huge module", b"a" * HUGE), ("huge path", b"/" + b"a" * HUGE),
    ("huge callable", b"a.b:" + b"c" * HUGE), ("control byte", b"a\x01.b"),
    ("huge mountpoint", b"/" + b"a " * (HUGE // 2) + b"=x.y:app"),
]
# Valid file specs (a '/' makes one): accepted; the file is the admin's choice.
APPS_ACCEPTED = [
    ("dotdot", b"../../etc/passwd"), ("shell path", b"/tmp/x; touch @MARKER@.wsgi"),
    ("non-utf8 path", b"/tmp/caf\xe9/\xff.wsgi"), ("4000-byte path", b"/" + b"a/" * 2000 + b"app.wsgi"),
]
PATHS_REFUSED = [
    ("empty", b""), ("control byte", b"a\x01b"), ("huge", b"a" * HUGE), ("huge deep", b"/" + b"a/" * (HUGE // 2)),
]
# Path values are kept verbatim: accepted, stat'ed, never executed.
PATHS_ACCEPTED = [
    ("dotdot", b"../../../../etc/passwd"), ("shell subst", b"$(touch @MARKER@)"), ("backticks", b"`touch @MARKER@`"),
    ("semicolon", b"x; touch @MARKER@"), ("pipe", b"a|touch @MARKER@"), ("glob", b"**/*.nothing"),
    ("quotes", b"'a'\"b\""), ("spaces and commas", b"a b, c"), ("long component", b"a" * 4000),
    ("deep", b"d/" * 2000), ("non-utf8", b"caf\xe9/\xff\xfe"),
]

SECONDS_REFUSED = INTERVALS_REFUSED
PATTERNS_REFUSED = [
    ("empty", b""), ("control byte", b"*.b\x01ak"), ("slash", b"templates/*.bak"), ("dotdot", b"../*.py"),
    ("absolute", b"/etc/passwd"), ("huge", b"*" * HUGE), ("shell subst path", b"$(touch @MARKER@)"),
]
# File-name patterns are kept verbatim and only ever matched (fnmatch).
PATTERNS_ACCEPTED = [
    ("glob", b"*.nothing"), ("classes", b"[#~]*.orig"), ("semicolon", b"x; touch y"), ("backticks", b"`id`"),
    ("quotes", b"'a'\"b\""), ("spaces and commas", b"a b, c"), ("non-utf8", b"caf\xe9\xff"),
    ("long", b"a" * 4000),
]
INTEGRATIONS_REFUSED = [
    ("empty", b""), ("separators only", b" , "), ("slash", b"dj/ango"), ("shell subst", b"$(touch @MARKER@)"),
    ("semicolon", b"django;touch @MARKER@"), ("backticks", b"`id`"), ("non-utf8", b"caf\xe9"),
    ("control byte", b"dj\x01ango"), ("huge junk", b"!" * HUGE),
]

OPTIONS = {
    # core name: (uWSGI option, Apache directive, refused values, accepted values)
    "enabled": ("pyfresh-enabled", "PyFresh", FLAGS_REFUSED, []),
    "app": ("pyfresh-app", "PyFreshApp", APPS_REFUSED, APPS_ACCEPTED),
    "packages": ("pyfresh-packages", "PyFreshPackages", NAMES_REFUSED, []),
    "exclude": ("pyfresh-exclude", "PyFreshExclude", NAMES_REFUSED, []),
    "debug": ("pyfresh-debug", "PyFreshDebug", FLAGS_REFUSED, []),
    "poll-interval": ("pyfresh-poll-interval", "PyFreshPollInterval", INTERVALS_REFUSED, []),
    "watch": ("pyfresh-watch", "PyFreshWatch", PATHS_REFUSED, PATHS_ACCEPTED),
    "restart-on": ("pyfresh-restart-on", "PyFreshRestartOn", PATHS_REFUSED, PATHS_ACCEPTED),
    "watch-ignore": ("pyfresh-watch-ignore", "PyFreshWatchIgnore", PATTERNS_REFUSED, PATTERNS_ACCEPTED),
    "drain-timeout": ("pyfresh-drain-timeout", "PyFreshDrainTimeout", SECONDS_REFUSED, []),
    "integrations": ("pyfresh-integrations", "PyFreshIntegrations", INTEGRATIONS_REFUSED, []),
}

# Known product issues, found by this suite (docs/reliability.md): the
# test runs and must fail until they are fixed (strict xfail).
KNOWN = {}


def refused_cases():
    for option, (_, _, refused, _) in OPTIONS.items():
        for label, value in refused:
            yield option, label, value


def case_id(option, label):
    return "%s-%s" % (option, label.replace(" ", "_"))


def uwsgi_param(option, label, value):
    known = KNOWN.get(("uwsgi", option, label))
    marks = [pytest.mark.xfail(strict=True, reason=known)] if known else []
    return pytest.param(option, label, value, marks=marks, id=case_id(option, label))


def hostile(value, marker):
    return value.replace(b"@MARKER@", os.fsencode(marker))


def one_line(text):
    return [line for line in text.splitlines() if line.strip()]


# -- uWSGI --------------------------------------------------------------------------

APP = '''\
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"bad-input app"]
'''


def make_uwsgi(tmp_path):
    target = UwsgiTarget(tmp_path, processes=1, threads=1)
    package = os.path.join(target.app_root, "badapp")
    os.makedirs(package)
    for name, text in (("__init__.py", ""), ("wsgi.py", APP)):
        with open(os.path.join(package, name), "w") as handle:
            handle.write(text)
    return target


def run_bounded(command, cwd, timeout=30):
    """(exit status, output); a process still running after `timeout` is
    killed with its whole group and reported as status None."""
    process = subprocess.Popen(command, cwd=cwd, env=apache_harness.clean_env(), stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        return process.returncode, output.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        kill_group(process)
        output, _ = process.communicate()
        return None, output.decode("utf-8", "replace")


def uwsgi_command(target, lines):
    """Writes the ini as bytes (values may be any bytes) and returns the command."""
    instance = target.instance
    instance.port = apache_harness.free_port()
    text = b"\n".join([
        b"[uwsgi]",
        b"plugins-dir = " + os.fsencode(str(instance.plugin_dir)),
        b"plugins = python3,pyfresh",
        b"http-socket = 127.0.0.1:%d" % instance.port,
        b"pidfile = " + os.fsencode(str(instance.pid_path)),
        b"pythonpath = " + os.fsencode(str(instance.python_dir)),
        b"pythonpath = " + os.fsencode(target.app_root),
        b"master = true",
        b"need-app = true",
        b"module = badapp.wsgi:application",
    ] + lines) + b"\n"
    with open(instance.ini_path, "wb") as handle:
        handle.write(text)
    return [instance.binary, "--ini", str(instance.ini_path)]


@pytest.mark.parametrize("option,label,value", [uwsgi_param(o, l, v) for o, l, v in refused_cases()])
def test_uwsgi_refuses(option, label, value, tmp_path):
    if option in ("enabled", "debug") and value == b"":
        pytest.skip("an empty flag means on (documented)")
    if b"$(" in value:
        pytest.skip("uWSGI expands $(NAME) in ini values itself (an environment variable)")
    target = make_uwsgi(tmp_path)
    marker = str(tmp_path / "MARKER")
    name = OPTIONS[option][0]
    command = uwsgi_command(target, [name.encode() + b" = " + hostile(value, marker)])
    returncode, log = run_bounded(command, target.directory)
    assert returncode is not None and returncode > 0, "uWSGI exited with %s (a signal?) or started:\n%s" % (returncode, log[-3000:])
    lines = [line for line in one_line(log) if line.startswith("pyfresh: ")]
    assert len(lines) == 1, "expected one pyfresh line:\n%s" % log[-3000:]
    assert lines[0].startswith("pyfresh: %s" % name), lines[0][:500]
    assert len(lines[0]) < MAX_LINE, "a %d-character log line" % len(lines[0])
    for bad in ("Traceback", "Segmentation", "core dumped", "Fatal Python error"):
        assert bad not in log, log[-3000:]
    assert not os.path.exists(marker)


def accepted_uwsgi_values():
    for option in ("watch", "restart-on", "watch-ignore"):
        for label, value in OPTIONS[option][3]:
            if b"$(" not in value:  # uWSGI's own $(NAME) expansion
                yield option, label, value


@pytest.mark.parametrize("option,label,value", [
    uwsgi_param(o, l, v) for o, l, v in accepted_uwsgi_values()] + [
    uwsgi_param("app", l, v) for l, v in APPS_ACCEPTED] + [
    pytest.param("debug", "empty", b"", id="debug-empty"), pytest.param("enabled", "empty", b"", id="enabled-empty")])
def test_uwsgi_accepts_and_serves(option, label, value, tmp_path):
    target = make_uwsgi(tmp_path)
    marker = str(tmp_path / "MARKER")
    name = OPTIONS[option][0]
    command = uwsgi_command(target, [name.encode() + b" = " + hostile(value, marker)])
    instance = target.instance
    with open(instance.log_path, "wb") as log:
        instance.proc = subprocess.Popen(command, cwd=target.directory, env=apache_harness.clean_env(),
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
    try:
        answer = wait_until(lambda: (lambda r: r if r.status else None)(request(instance.port, timeout=2))
                            if instance.proc.poll() is None else "exited", timeout=30)
        assert answer not in (None, "exited"), "uWSGI did not serve (exit %s):\n%s" % (
            instance.proc.poll(), target.log()[-3000:])
        assert answer.status == 200 and answer.body == b"bad-input app", (answer.status, answer.body[:300])
        time.sleep(0.2)
        assert target.alive(), target.log()[-3000:]
        assert not target.problems(), target.log()[-3000:]
        assert "Traceback" not in target.log(), target.log()[-3000:]
        assert not os.path.exists(marker)
    finally:
        target.stop()


# -- Apache ---------------------------------------------------------------------------

PREAMBLE = b"""\
ServerRoot "@STATE@"
ServerName 127.0.0.1
Listen 127.0.0.1:@PORT@
PidFile "@STATE@/httpd.pid"
Mutex file:@STATE@ default
ErrorLog "@STATE@/error.log"
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule pyfresh_module @MODULE@
"""


def apache_quote(value):
    """A directive argument: quoted, with '"' and '\\' escaped (httpd's rules)."""
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


@pytest.fixture(scope="module")
def apache_space():
    space = apache_harness.Workspace(prefix="pyfresh-rel-bad-")
    yield space
    space.cleanup()


def apache_check(space, lines):
    text = (PREAMBLE.replace(b"@STATE@", os.fsencode(space.state)).replace(b"@PORT@", b"%d" % apache_harness.free_port())
            .replace(b"@MODULE@", os.fsencode(apache_harness.module_path())))
    if not any(line.startswith(b"PyFreshApp ") for line in lines):
        text += b"PyFreshApp badapp.wsgi:application\n"
    path = space.path("state", "bad.conf")
    with open(path, "wb") as handle:
        handle.write(text + b"\n".join(lines) + b"\n")
    result = subprocess.run([apache_harness.APACHE, "-t", "-f", path], env=apache_harness.clean_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return result.returncode, result.stdout.decode("utf-8", "replace")


@pytest.mark.parametrize("option,label,value", [pytest.param(o, l, v, id=case_id(o, l)) for o, l, v in refused_cases()])
def test_apache_configtest_refuses(option, label, value, apache_space, tmp_path):
    marker = str(tmp_path / "MARKER")
    directive = OPTIONS[option][1]
    code, output = apache_check(apache_space, [directive.encode() + b" " + apache_quote(hostile(value, marker))])
    assert code != 0 and code < 128, "apache2 -t exited %d:\n%s" % (code, output[-2000:])
    assert "Syntax error" in output, output[-2000:]
    errors = [line for line in one_line(output) if directive in line]
    assert errors and all(len(line) < MAX_LINE for line in errors), output[:3000]
    # httpd's own message for an empty argument, or pyfresh's naming the directive.
    assert any(line.startswith(directive + ":") or line.startswith(directive + " ") for line in errors), output[:3000]
    assert not os.path.exists(marker)


APACHE_SERVE = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName @NAME@.test
    WSGIDaemonProcess @NAME@ python-path=@APPS@/bad:@PYTHON@ home=@APPS@/bad threads=2
    WSGIProcessGroup @NAME@
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
@LINES@
</VirtualHost>
"""


def test_apache_accepts_and_serves(apache_space, tmp_path):
    """Every accepted hostile value in one running server: the path values
    in one virtual host (PyFreshWatch, PyFreshRestartOn and the
    PyFreshWatchIgnore patterns), each accepted
    PyFreshApp file spec in its own (it cannot be loaded: a 500 page that
    shows no path)."""
    marker = os.path.join(apache_space.root, "MARKER")
    package = apache_space.path("apps", "bad", "badapp")
    os.makedirs(package)
    for name, text in (("__init__.py", ""), ("wsgi.py", APP)):
        apache_harness.write_file(os.path.join(package, name), text)
    for directory in (apache_space.path("apps"), apache_space.path("apps", "bad")):
        os.chmod(directory, 0o755)
    apache_space.give_to_run_user(apache_space.path("apps", "bad"))

    def vhost(name, lines):
        text = APACHE_SERVE.replace("@NAME@", name).replace("@LINES@", "@@LINES-%s@@" % name)
        return text, b"\n".join(b"    " + line for line in lines)

    hosts = []
    paths = [b"PyFreshApp badapp.wsgi:application"]
    for label, value in PATHS_ACCEPTED:
        for directive in (b"PyFreshWatch", b"PyFreshRestartOn"):
            paths.append(directive + b" " + apache_quote(hostile(value, marker)))
    for label, value in PATTERNS_ACCEPTED:
        paths.append(b"PyFreshWatchIgnore " + apache_quote(value))
    hosts.append(("paths", paths))
    for index, (label, value) in enumerate(APPS_ACCEPTED):
        hosts.append(("app%d" % index, [b"PyFreshApp " + apache_quote(hostile(value, marker))]))
    body = ""
    blocks = {}
    for name, lines in hosts:
        text, block = vhost(name, lines)
        body += text
        blocks["@@LINES-%s@@" % name] = block
    httpd = apache_harness.Httpd(apache_space, body)
    # The body holds non-UTF-8 bytes: render it as bytes.
    def write_config(port, httpd=httpd):
        data = httpd.render(port).encode("utf-8", "surrogateescape")
        for key, block in blocks.items():
            data = data.replace(key.encode(), block)
        with open(httpd.config_path, "wb") as handle:
            handle.write(data)
    httpd.write_config = write_config
    try:
        httpd.start()
        answer = request(httpd.port, host="paths.test", timeout=30)
        assert answer.status == 200 and answer.body == b"bad-input app", (answer.status, answer.error, httpd.log()[-3000:])
        for index, (label, _) in enumerate(APPS_ACCEPTED):
            answer = request(httpd.port, host="app%d.test" % index, timeout=30)
            assert answer.status == 500 and answer.error_header == "load-failed", (label, answer.status, answer.body)
            assert not leaks(answer.body, ["etc/passwd", "/tmp/", "caf"]), (label, answer.body)
        log = httpd.log()
        for bad in ("Segmentation fault", "Fatal Python error", "exit signal", "pyfresh: internal error"):
            assert bad not in log, log[-3000:]
        assert httpd.process.poll() is None
        assert not os.path.exists(marker)
    finally:
        httpd.stop()
