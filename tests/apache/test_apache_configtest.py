"""`apache2 -t`: the core validates every PyFresh* value while httpd reads
the config, so a bad one fails the check with a message naming the
directive and the value (and httpd adds the file and line)."""

import pytest

from pyfresh_testsupport import apache_harness as harness

PREAMBLE = """\
ServerRoot "@STATE@"
ServerName 127.0.0.1
Listen 127.0.0.1:8
PidFile "@STATE@/httpd.pid"
DefaultRuntimeDir "@STATE@"
ErrorLog "@STATE@/error.log"
LoadModule mpm_event_module @MODULES@/mod_mpm_event.so
LoadModule authz_core_module @MODULES@/mod_authz_core.so
LoadModule wsgi_module @MODULES@/mod_wsgi.so
LoadModule pyfresh_module @MOD_PYFRESH@
"""

GOOD = """\
PyFresh On
PyFreshDebug off
PyFreshPackages shared
PyFreshPollInterval 250ms
<VirtualHost 127.0.0.1:8>
    ServerName a.test
    PyFreshApp mysite.wsgi:application
    PyFreshPackages mysite, blog
    PyFreshPackages polls
    PyFreshExclude mysite.settings
    PyFreshWatchIgnore "*.bak" "my notes, *"
    PyFreshWatchIgnore draft-*
    PyFreshDebug yes
    PyFreshPollInterval 0
    PyFreshDrainTimeout 2s
    PyFreshIntegrations django flask
    PyFreshReloadScope Dependents
</VirtualHost>
<VirtualHost 127.0.0.1:8>
    ServerName b.test
    PyFresh Off
    PyFreshApp /srv/b/app.wsgi:app
</VirtualHost>
"""


def check(workspace, body, flag="-t"):
    text = harness.substitute(PREAMBLE + body, {
        "STATE": workspace.state,
        "MODULES": harness.MODULES,
        "MOD_PYFRESH": harness.module_path(),
    })
    return harness.config_test(text, workspace, flag)


def test_a_good_configuration_passes(workspace):
    returncode, output = check(workspace, GOOD)
    assert returncode == 0, output
    assert "Syntax OK" in output


BAD_VALUES = [
    ("PyFresh", "sometimes"),
    ("PyFreshApp", "mysite.main:my-app"),
    ("PyFreshApp", "2fast.main"),
    ("PyFreshApp", "mysite.wsgi:"),
    ("PyFreshPackages", "mysite 2fast"),
    ("PyFreshPackages", "my-site"),
    ("PyFreshExclude", "mysite..settings"),
    ("PyFreshDebug", "verbose"),
    ("PyFreshPollInterval", "soon"),
    ("PyFreshPollInterval", "-1"),
    ("PyFreshPollInterval", "5 minutes"),
    ("PyFreshWatchIgnore", "templates/*.bak"),
    ("PyFreshDrainTimeout", "forever"),
    ("PyFreshDrainTimeout", "-1"),
    ("PyFreshIntegrations", "dj/ango"),
    ("PyFreshLiveReload", "sometimes"),
    ("PyFreshReloadScope", "modules"),
]


@pytest.mark.parametrize("directive,value", BAD_VALUES)
@pytest.mark.parametrize("where", ["main server", "virtual host"])
def test_a_bad_value_fails_naming_the_directive_and_value(workspace, directive, value, where):
    line = '%s "%s"' % (directive, value)
    if where == "virtual host":
        body = "<VirtualHost 127.0.0.1:8>\n    ServerName a.test\n    %s\n</VirtualHost>\n" % line
        line_number = PREAMBLE.count("\n") + 3
    else:
        body = line + "\n"
        line_number = PREAMBLE.count("\n") + 1
    returncode, output = check(workspace, body)
    assert returncode != 0, output
    assert "Syntax OK" not in output
    assert directive + ":" in output, output
    bad_word = value.split()[-1] if directive.endswith(("Packages", "Exclude")) else value
    assert bad_word in output, output
    assert "line %d" % line_number in output, output


def test_directives_are_rejected_inside_directory_sections(workspace):
    returncode, output = check(workspace, "<Directory /srv>\n    PyFreshPackages mysite\n</Directory>\n")
    assert returncode != 0
    assert "PyFreshPackages not allowed" in output, output


def test_a_list_directive_needs_a_value(workspace):
    returncode, output = check(workspace, "PyFreshPackages\n")
    assert returncode != 0
    assert "PyFreshPackages" in output, output


def test_every_directive_has_help_text(workspace):
    """httpd -L lists each directive with its help text."""
    returncode, listing = check(workspace, "", flag="-L")
    assert returncode == 0, listing
    for directive, words in [("PyFresh", "On|Off"), ("PyFreshApp", "callable"),
                             ("PyFreshPackages", "reloaded"), ("PyFreshExclude", "kept"),
                             ("PyFreshDebug", "traceback"), ("PyFreshPollInterval", "polling"),
                             ("PyFreshWatchIgnore", "File-name patterns"),
                             ("PyFreshDrainTimeout", "requests"), ("PyFreshLiveReload", "reload")]:
        block = listing.split("\n%s (mod_pyfresh.c)\n" % directive)
        assert len(block) == 2, (directive, listing[-2000:])
        help_line, context_line = block[1].split("\n")[:2]
        assert words in help_line, (directive, help_line)
        assert "Allowed in *.conf only outside <Directory>, <Files>, <Location>, or <If>" in context_line
