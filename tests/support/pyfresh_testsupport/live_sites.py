"""A small HTML site served with live reload on each host, and headless
Chromium to watch it (the browser tests and bench/live_reload_bench.py).

Hosts: `python3 -m pyfresh.serve`, uWSGI (uwsgi_harness.py) and Apache +
mod_wsgi daemon mode (apache_harness.py), each started on loopback with its
own state, stopped by its pid.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from . import apache_harness, uwsgi_harness

PACKAGE = "lrsite"
SPEC = PACKAGE + ".wsgi:application"
START_TIMEOUT = 30.0

# The page: a heading with the message of lrsite/page.py, and a counter of
# page loads the app keeps in the tab's sessionStorage (its own script, so
# the test can tell how often the page was loaded).
WSGI_MODULE = '''\
from lrsite import page

# The app's Content-Security-Policy, if any; a nonce in it is its inline script's too.
CSP = None
NONCE = "d3v-n0nce"
HTML = ("<!DOCTYPE html>\\n<html><head><meta charset=\\"utf-8\\"><title>live</title></head>\\n"
        "<body><h1 id=\\"message\\">%s</h1>\\n"
        "<script%s>sessionStorage.setItem('loads', String(+(sessionStorage.getItem('loads') || 0) + 1));</script>\\n"
        "</body></html>\\n")


def application(environ, start_response):
    nonce = ' nonce="%s"' % NONCE if CSP and NONCE in CSP else ""
    body = (HTML % (page.MESSAGE, nonce)).encode("utf-8")
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
    if CSP:
        headers.append(("Content-Security-Policy", CSP))
    start_response("200 OK", headers)
    return [body]
'''


def app_bytes(message):
    """The bytes the app answers with `message`, as it writes them."""
    namespace = {}
    source = WSGI_MODULE.replace("from lrsite import page\n", "")
    exec(compile(source, "<lrsite.wsgi>", "exec"), namespace)
    return (namespace["HTML"] % (message, "")).encode("utf-8")


def page_source(message):
    return "MESSAGE = %r\n" % message


BROKEN_SOURCE = "MESSAGE = 'unfinished\n"


def save(path, text):
    """Like an editor: a temporary file renamed over the original, readable
    by the server's user."""
    temporary = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
    with open(temporary, "w") as handle:
        handle.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def write_site(root, message="v1", csp=None):
    package = os.path.join(root, PACKAGE)
    os.makedirs(package, exist_ok=True)
    save(os.path.join(package, "__init__.py"), "")
    save(os.path.join(package, "wsgi.py"), WSGI_MODULE.replace("CSP = None", "CSP = %r" % csp))
    save(os.path.join(package, "page.py"), page_source(message))
    return os.path.join(package, "page.py")


def http_get(url, timeout=10.0):
    """(status, headers, body bytes)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


class Site:
    """A running host. url: the page; page_file: the module to edit."""

    host = None

    def __init__(self, build_dir, live_reload=True, debug=True, csp=None):
        self.build_dir = os.path.abspath(build_dir)
        self.live_reload = live_reload
        self.debug = debug
        self.csp = csp
        self.url = None
        self.page_file = None

    def stop(self):
        raise NotImplementedError

    def log(self):
        return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class ServeSite(Site):
    """python3 -m pyfresh.serve (threaded wsgiref)."""

    host = "serve"

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="pyfresh-live-serve-")
        self.page_file = write_site(self.dir, csp=self.csp)
        self.log_path = os.path.join(self.dir, "serve.log")
        command = ["/usr/bin/python3", "-m", "pyfresh.serve", SPEC, "--port", "0", "--path", self.dir]
        command += ["--live-reload"] if self.live_reload else []
        command += ["--debug"] if self.debug else []
        env = dict(apache_harness.clean_env(), LANG="C.UTF-8", PYTHONPATH=os.path.join(self.build_dir, "python"))
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(command, cwd=self.dir, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self.log_file, start_new_session=True)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError("pyfresh.serve did not start: %r\n%s" % (line, self.log()))
        self.url = "http://127.0.0.1:%d/" % int(line.split()[1])
        return self

    def stop(self):
        proc = getattr(self, "proc", None)
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
            proc.stdout.close()
            self.log_file.close()
            self.proc = None
        if getattr(self, "dir", None):
            self.saved_log = self.log()
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as handle:
                return handle.read()
        except (OSError, AttributeError):
            return getattr(self, "saved_log", "")


class UwsgiSite(Site):
    """uWSGI with the pyfresh plugin, `processes` x `threads`."""

    host = "uwsgi"

    def __init__(self, build_dir, live_reload=True, debug=True, processes=2, threads=2):
        super().__init__(build_dir, live_reload, debug)
        self.processes = processes
        self.threads = threads

    def start(self):
        self.dir = tempfile.mkdtemp(prefix="pyfresh-live-uwsgi-")
        root = os.path.join(self.dir, "apps")
        self.page_file = write_site(root)
        binary = shutil.which("uwsgi", path="/usr/local/bin:/usr/bin:/bin")
        self.uwsgi = uwsgi_harness.Uwsgi(os.path.join(self.dir, "uwsgi"), binary,
                                         os.path.join(self.build_dir, "uwsgi_plugin"),
                                         os.path.join(self.build_dir, "python"))
        options = [("master", "true"), ("processes", str(self.processes)), ("threads", str(self.threads)),
                   ("die-on-term", "true"), ("module", SPEC)]
        if self.live_reload:
            options.append(("pyfresh-live-reload", "true"))
        if self.debug:
            options.append(("pyfresh-debug", "true"))
        self.uwsgi.start(options, pythonpath=[root])
        self.url = "http://127.0.0.1:%d/" % self.uwsgi.port
        return self

    def stop(self):
        if getattr(self, "uwsgi", None) is not None:
            self.uwsgi.stop()
            self.saved_log = self.uwsgi.log()
            self.uwsgi = None
        if getattr(self, "dir", None):
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def log(self):
        return self.uwsgi.log() if getattr(self, "uwsgi", None) else getattr(self, "saved_log", "")


APACHE_VHOST = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName 127.0.0.1
    WSGIDaemonProcess live processes=@PROCESSES@ threads=4 python-path=@APPS@/site:@PYTHON@ home=@APPS@/site
    WSGIProcessGroup live
    WSGIApplicationGroup %{GLOBAL}
    WSGIScriptAlias / @ENTRY@
    PyFreshApp lrsite.wsgi:application
    PyFreshLiveReload @LIVE@
    PyFreshDebug @DEBUG@
</VirtualHost>
"""


class ApacheSite(Site):
    """Apache + mod_wsgi daemon mode, `processes` daemon processes."""

    host = "apache"

    def __init__(self, build_dir, live_reload=True, debug=True, processes=2):
        super().__init__(build_dir, live_reload, debug)
        self.processes = processes

    def start(self):
        os.environ.setdefault("PYFRESH_BUILD_DIR", self.build_dir)
        self.workspace = apache_harness.Workspace(prefix="pyfresh-live-")
        site = self.workspace.path("apps", "site")
        self.page_file = write_site(site)
        for directory in (self.workspace.path("apps"), site):
            os.chmod(directory, 0o755)
        self.workspace.give_to_run_user(site)
        body = (APACHE_VHOST.replace("@PROCESSES@", str(self.processes))
                .replace("@LIVE@", "On" if self.live_reload else "Off")
                .replace("@DEBUG@", "On" if self.debug else "Off"))
        self.httpd = apache_harness.Httpd(self.workspace, body)
        self.httpd.start()
        self.url = "http://127.0.0.1:%d/" % self.httpd.port
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:  # the daemon processes import the app
            try:
                if http_get(self.url, timeout=5)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("Apache did not serve the site:\n%s" % self.log())

    def stop(self):
        if getattr(self, "httpd", None) is not None:
            self.saved_log = self.httpd.log()
            self.httpd.stop()
            self.httpd = None
        if getattr(self, "workspace", None) is not None:
            self.workspace.cleanup()
            self.workspace = None

    def log(self):
        return self.httpd.log() if getattr(self, "httpd", None) else getattr(self, "saved_log", "")


HOSTS = {"serve": ServeSite, "uwsgi": UwsgiSite, "apache": ApacheSite}


# -- the browser ------------------------------------------------------------------

def chromium_missing():
    """Why headless Chromium cannot run here, or None."""
    for binary in ("chromium", "chromedriver"):
        if shutil.which(binary, path="/usr/bin:/usr/local/bin:/bin") is None:
            return "%s is not installed (Debian packages chromium, chromium-driver: scripts/install-deps.sh)" % binary
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python3-selenium is not installed (scripts/install-deps.sh)"
    return None


def start_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium", path="/usr/bin:/usr/local/bin:/bin")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    service = Service(executable_path=shutil.which("chromedriver", path="/usr/bin:/usr/local/bin:/bin"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    return driver


def heading(driver):
    """The page's heading text, or None (error page, page loading)."""
    try:
        return driver.execute_script("var h = document.getElementById('message'); return h ? h.textContent : null;")
    except Exception:
        return None


def page_text(driver):
    try:
        return driver.execute_script("return document.body ? document.body.innerText : '';") or ""
    except Exception:
        return ""


def loads(driver):
    """How often the app's page was loaded in this tab (its own counter)."""
    try:
        return int(driver.execute_script("return sessionStorage.getItem('loads') || '0';"))
    except Exception:
        return -1


def navigation_id(driver):
    """Changes with every page load (error pages included)."""
    try:
        return driver.execute_script("return performance.timeOrigin;")
    except Exception:
        return None


def wait_until(predicate, timeout=15.0, interval=0.01, message="condition"):
    """The harnesses' wait, with a browser's pace: a page can show a change
    within a few milliseconds, and a reload plus a page load takes seconds."""
    return uwsgi_harness.wait_for(predicate, timeout=timeout, interval=interval, message=message)
