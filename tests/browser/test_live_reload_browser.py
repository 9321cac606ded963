"""Live reload in headless Chromium on each host: an open page shows a
saved change by itself (loaded once for it, whichever worker process
answers its checks), shows a broken save's error, shows the fix, and then
stays settled. With the option off, the bytes are the app's."""

import time

import pytest

from pyfresh_testsupport import live_sites
from pyfresh_testsupport.live_sites import BROKEN_SOURCE, page_source, save, wait_until

# Two worker processes under uWSGI and mod_wsgi: the page's checks reach
# either, and each only knows its own state.
HOSTS = {
    "serve": lambda build: live_sites.ServeSite(build),
    "uwsgi-2-processes": lambda build: live_sites.UwsgiSite(build, processes=2, threads=2),
    "apache-daemon-2-processes": lambda build: live_sites.ApacheSite(build, processes=2),
}
SETTLE_SECONDS = 3.0


def follow_saves(browser, site):
    browser.get(site.url)
    assert live_sites.heading(browser) == "v1", site.log()
    first = live_sites.loads(browser)

    save(site.page_file, page_source("v2"))
    wait_until(lambda: live_sites.heading(browser) == "v2", message="the saved change on the open page")
    time.sleep(SETTLE_SECONDS)  # a second reload for the same change would land here
    assert live_sites.heading(browser) == "v2"
    assert live_sites.loads(browser) == first + 1, "the page was loaded %d times for one save" % (
        live_sites.loads(browser) - first)

    save(site.page_file, BROKEN_SOURCE)
    wait_until(lambda: "SyntaxError" in live_sites.page_text(browser), message="the error of the broken save")
    assert live_sites.heading(browser) is None

    save(site.page_file, page_source("v3"))
    wait_until(lambda: live_sites.heading(browser) == "v3", message="the fixed page")

    settled = live_sites.navigation_id(browser)
    loads = live_sites.loads(browser)
    time.sleep(SETTLE_SECONDS)
    assert live_sites.navigation_id(browser) == settled, "the page kept reloading"
    assert live_sites.loads(browser) == loads
    assert live_sites.heading(browser) == "v3"


@pytest.mark.parametrize("host", sorted(HOSTS))
def test_open_page_follows_saves(browser, build_dir, host):
    with HOSTS[host](build_dir) as site:
        follow_saves(browser, site)


@pytest.mark.parametrize("host", sorted(live_sites.HOSTS))
def test_option_off_serves_the_apps_bytes(browser, build_dir, host):
    site = live_sites.HOSTS[host](build_dir, live_reload=False)
    with site:
        status, headers, body = live_sites.http_get(site.url)
        assert status == 200
        assert body == live_sites.app_bytes("v1")
        assert int(headers["Content-Length"]) == len(body)
        # No endpoint: the app answers /_pyfresh/ like any other path.
        assert live_sites.http_get(site.url + "_pyfresh/token")[2] == live_sites.app_bytes("v1")
        browser.get(site.url)
        assert live_sites.heading(browser) == "v1"
        assert browser.execute_script("return document.querySelectorAll('script[data-pyfresh-url]').length") == 0


def test_uwsgi_one_process_one_thread_serves_the_app_while_a_page_is_open(browser, build_dir):
    with live_sites.UwsgiSite(build_dir, processes=1, threads=1) as site:
        browser.get(site.url)
        assert live_sites.heading(browser) == "v1"
        # The page checks every 250 ms; each check is short, so the one
        # thread keeps answering the app.
        answered = []
        for _ in range(20):
            status, _, body = live_sites.http_get(site.url, timeout=5)
            answered.append(status == 200 and b">v1</h1>" in body)
            time.sleep(0.05)
        assert all(answered)
        save(site.page_file, page_source("v2"))
        wait_until(lambda: live_sites.heading(browser) == "v2", message="the saved change on the open page")
        checks = [live_sites.http_get(site.url + "_pyfresh/token", timeout=5)[0] for _ in range(5)]
        assert checks == [200] * 5


def test_without_debug_the_page_shows_the_short_error_and_then_the_fix(browser, build_dir):
    with live_sites.ServeSite(build_dir, debug=False) as site:
        browser.get(site.url)
        save(site.page_file, BROKEN_SOURCE)
        wait_until(lambda: "Internal Server Error" in live_sites.page_text(browser), message="the generic error page")
        assert "SyntaxError" not in live_sites.page_text(browser)
        save(site.page_file, page_source("fixed"))
        wait_until(lambda: live_sites.heading(browser) == "fixed", message="the fixed page")


@pytest.mark.parametrize("csp", ["default-src 'self'; script-src 'nonce-d3v-n0nce'",
                                 "default-src 'none'; script-src 'self'; connect-src 'self'"])
def test_the_script_runs_under_the_apps_content_security_policy(browser, build_dir, csp):
    """With a nonce in the policy the script is inline with it; otherwise
    it is a same-origin file, which script-src 'self' allows."""
    with live_sites.ServeSite(build_dir, csp=csp) as site:
        browser.get(site.url)
        assert live_sites.heading(browser) == "v1"
        save(site.page_file, page_source("v2"))
        wait_until(lambda: live_sites.heading(browser) == "v2", message="the saved change under CSP %r" % csp)
