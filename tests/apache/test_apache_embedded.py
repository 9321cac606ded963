"""mod_wsgi embedded mode under the worker MPM (threads): the apps run in the
Apache child itself, both virtual hosts in its main interpreter (%{GLOBAL}),
so their Reloaders share one sys.modules."""

import pytest

from pyfresh_testsupport import apache_harness as harness

WORKER_CONFIG = harness.embedded_config("@APPS@/appea:@APPS@/appeb:@PYTHON@", threads=16)

VHOSTS = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName ea.test
    WSGIScriptAlias / @ENTRY@
    PyFreshApp appea.main:application
    PyFreshPackages appea
    PyFreshDebug On
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName eb.test
    WSGIScriptAlias / @ENTRY@
    PyFreshApp appeb.main:application
    PyFreshPackages appeb
    # mod_pyfresh owns PYFRESH_CONFIG: its fixups hook runs after mod_env.
    SetEnv PYFRESH_CONFIG app=other.main:application
</VirtualHost>

<VirtualHost 127.0.0.1:@PORT@>
    ServerName plain.test
    WSGIScriptAlias / @ENTRY@
    SetEnv PYFRESH_CONFIG app=appeb.main:application
</VirtualHost>
"""


@pytest.fixture(scope="module")
def server(workspace):
    for name in ("appea", "appeb"):
        harness.write_app(workspace, name)
    httpd = harness.Httpd(workspace, VHOSTS, mpm="worker", mpm_config=WORKER_CONFIG,
                          preamble_extra="LoadModule env_module @MODULES@/mod_env.so\n")
    with httpd:
        yield httpd
    print(httpd.log())


get_ok = harness.get_ok
get_message_after_save = harness.get_message_after_save


def test_both_hosts_run_embedded_in_one_threaded_child(server):
    a = get_ok(server, "ea.test")
    b = get_ok(server, "eb.test")
    assert a["message"] == "appea v1" and b["message"] == "appeb v1"
    assert a["process_group"] == "" and a["application_group"] == ""
    assert a["multithread"] is True
    assert a["pid"] == b["pid"] != server.process.pid


def test_an_edit_reloads_only_the_host_whose_packages_it_touches(server, workspace):
    a1, b1 = get_ok(server, "ea.test"), get_ok(server, "eb.test")
    harness.write_views(workspace, "appea", "appea v2")
    a2, b2 = get_message_after_save(server, "ea.test", "appea v2"), get_ok(server, "eb.test")
    assert a2["message"] == "appea v2" and a2["views"] != a1["views"] and a2["wsgi"] != a1["wsgi"]
    assert b2 == b1, "host B's modules keep their identity in the shared interpreter"

    harness.write_views(workspace, "appeb", "appeb v2")
    b3, a3 = get_message_after_save(server, "eb.test", "appeb v2"), get_ok(server, "ea.test")
    assert b3["message"] == "appeb v2" and b3["views"] != b1["views"]
    assert a3 == a2


def test_threads_keep_being_served_while_the_host_reloads(server, workspace):
    before = get_ok(server, "ea.test")["message"]
    results, errors, hung = harness.edits_under_requests(server, "ea.test", workspace, "appea")
    assert not hung
    statuses = [status for status, _ in results]
    messages = {message for _, message in results}
    assert not errors and set(statuses) == {200}
    assert messages <= {before} | {"appea concurrent %d" % i for i in range(3)}
    assert get_message_after_save(server, "ea.test", "appea concurrent 2")["message"] == "appea concurrent 2"


def test_broken_code_answers_the_engine_error_then_a_save_recovers(server, workspace):
    b_before = get_ok(server, "eb.test")
    harness.write_file(harness.views_path(workspace, "appea"), "def broken(:\n")
    response = server.get_after_save("ea.test", lambda r: r.status != 200)
    assert response.status == 500 and response.headers.get("x-pyfresh-error") == "load-failed"
    assert "SyntaxError" in response.body
    assert get_ok(server, "eb.test") == b_before, "the other host keeps serving"
    harness.write_views(workspace, "appea", "appea fixed")
    assert get_message_after_save(server, "ea.test", "appea fixed")["message"] == "appea fixed"


def test_pyfresh_config_is_set_only_by_mod_pyfresh(server):
    """SetEnv cannot override what mod_pyfresh resolved, nor supply a config
    where no PyFresh* directive applies (the entry script then says so)."""
    assert get_ok(server, "eb.test")["message"].startswith("appeb")
    response = server.get("plain.test")
    assert response.status == 500 and response.headers.get("x-pyfresh-error") == "config-missing"
    assert "mod_pyfresh" in response.body
