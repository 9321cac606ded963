"""A Django project made by Django's own tools, and the edits made to it
while it is served (issue 18). Shared by the engine test
(tests/python/test_integrations_django.py) and the uWSGI and Apache tests,
which import it from pyfresh_testsupport.

make_project(root) runs ``django-admin startproject mysite`` and
``manage.py startapp polls`` (Debian's python3-django), fills the app the
way the Django tutorial does (a model with a foreign key, admin with an
inline and a list_display method, include()d URL confs, a function view, a
class-based view, a generic DetailView, project and app templates with
{% extends %}, a form, custom template tags, a middleware, a context
processor, a signal receiver connected in AppConfig.ready()), migrates to
sqlite and creates a superuser and one question with a choice.
DEBUG is off, so Django's cached template loader is in use.

EDITS is the list of edit kinds. Each is saved (a temporary file renamed
over the original, as editors do) and the very next request must show it:
no wait, no retry. Every saved value keeps the file's size where it can, so
a .pyc trusted within the same second would show too.
"""

import html.parser
import http.cookiejar
import os
import re
import struct
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

PYTHON = "/usr/bin/python3"
PACKAGES = ("mysite", "polls")
EXCLUDE = ("mysite.settings",)
SUPERUSER = ("admin", "pyfresh-admin-pw-18")


def django_available():
    return subprocess.run([PYTHON, "-c", "import django"], capture_output=True).returncode == 0


# -- the project --------------------------------------------------------------------------

_FILES = {
    "polls/models.py": '''\
import datetime

from django.db import models
from django.utils import timezone


class Question(models.Model):
    question_text = models.CharField(max_length=200)
    pub_date = models.DateTimeField("date published")

    def __str__(self):
        return "str-v1:" + self.question_text

    def was_published_recently(self):
        return self.pub_date >= timezone.now() - datetime.timedelta(days=1)

    def label(self):
        return "model-method-v1"


class Choice(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE)
    choice_text = models.CharField(max_length=200)
    votes = models.IntegerField(default=0)

    def __str__(self):
        return self.choice_text
''',
    "polls/admin.py": '''\
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from .models import Choice, Question


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 1


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    inlines = [ChoiceInline]
    list_display = ("question_text", "pub_date", "recent")

    @admin.display(description="ADMINCOL-V1")
    def recent(self, obj):
        return "recent-v1"


# Another app's model with this app's admin class (a common customisation).
admin.site.unregister(User)


@admin.register(User)
class PollsUserAdmin(UserAdmin):
    list_display = ("username", "email", "marker")

    @admin.display(description="USERCOL-V1")
    def marker(self, obj):
        return "user-v1"
''',
    "polls/apps.py": '''\
from django.apps import AppConfig


class PollsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "polls"

    def ready(self):
        from . import signals  # noqa: F401
''',
    "polls/signals.py": '''\
from django.db.models.signals import pre_save
from django.dispatch import receiver


@receiver(pre_save)
def stamp(sender, instance, **kwargs):
    # No sender filter: a receiver left over from an older generation would
    # stamp too ("made sig-v1 sig-v2").
    if sender.__name__ == "Question" and instance.question_text.startswith("made"):
        instance.question_text += " sig-v1"
''',
    "polls/forms.py": '''\
from django import forms


class VoteForm(forms.Form):
    name = forms.CharField(label="form-label-v1", max_length=50)

    def clean_name(self):
        name = self.cleaned_data["name"]
        if name == "bad":
            raise forms.ValidationError("form-error-v1")
        return name
''',
    "polls/helpers.py": '''\
def greeting():
    return "helper-v1"
''',
    "polls/views.py": '''\
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import DetailView

from . import helpers
from .forms import VoteForm
from .models import Question


def index(request):
    question = Question.objects.order_by("id").first()
    return render(request, "polls/index.html", {
        "view_text": "view-v1", "helper": helpers.greeting(), "label": question.label()})


class HelloView(View):
    greeting = "cbv-v1"

    def get(self, request):
        return HttpResponse(self.greeting)


class QuestionDetail(DetailView):
    model = Question
    template_name = "polls/detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["detail_extra"] = "detail-v1"
        return context


@csrf_exempt
def vote(request):
    form = VoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return HttpResponse("thanks")
    return render(request, "polls/vote.html", {"form": form})


def create(request):
    question = Question.objects.create(question_text="made", pub_date=timezone.now())
    question.refresh_from_db()
    return HttpResponse(question.question_text)
''',
    "polls/urls.py": '''\
from django.urls import path

from . import views

app_name = "polls"
urlpatterns = [
    path("", views.index, name="index"),
    path("hello/", views.HelloView.as_view(), name="hello"),
    path("<int:pk>/", views.QuestionDetail.as_view(), name="detail"),
    path("vote/", views.vote, name="vote"),
    path("create/", views.create, name="create"),
]
''',
    "polls/templatetags/__init__.py": "",
    "polls/templatetags/poll_extras.py": '''\
from django import template

register = template.Library()


@register.simple_tag
def poll_badge():
    return "tag-v1"


@register.filter
def shout(value):
    return str(value).upper() + "-filter-v1"
''',
    "polls/templates/polls/index.html": '''\
{% extends "base.html" %}{% load poll_extras %}
{% block content %}index-template-v1 {{ view_text }} {{ helper }} {{ label }} {% poll_badge %} {{ "x"|shout }}{% endblock %}
''',
    "polls/templates/polls/detail.html": '''\
{% extends "base.html" %}
{% block content %}detail-template-v1 {{ detail_extra }} [{{ question.question_text }}]{% endblock %}
''',
    "polls/templates/polls/vote.html": '''\
{% extends "base.html" %}
{% block content %}<form method="post">{{ form.as_p }}</form>{% endblock %}
''',
    "templates/base.html": '''\
<!doctype html><html><body>{% block content %}{% endblock %}
<footer>base-v1 {{ site_stamp }}</footer></body></html>
''',
    "mysite/urls.py": '''\
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("polls/", include("polls.urls")),
    path("about/", views.about),
    path("fr/", views.french),
]
''',
    "mysite/views.py": '''\
from django.conf import settings
from django.http import HttpResponse
from django.utils import translation


def about(request):
    return HttpResponse("about-v1 " + settings.SITE_BANNER)


def french(request):
    with translation.override("fr"):
        return HttpResponse(translation.gettext("greeting"))
''',
    "mysite/middleware.py": '''\
import os


class StampMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["X-Stamp"] = "middleware-v1"
        response["X-Pid"] = str(os.getpid())
        return response
''',
    "mysite/context_processors.py": '''\
def site(request):
    return {"site_stamp": "ctxproc-v1"}
''',
}

_SETTINGS_TAIL = '''
# -- added by pyfresh's test (tests/django_project.py) --
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = INSTALLED_APPS + ["polls"]
MIDDLEWARE = MIDDLEWARE + ["mysite.middleware.StampMiddleware"]
TEMPLATES[0]["DIRS"] = [BASE_DIR / "templates"]
TEMPLATES[0]["OPTIONS"]["context_processors"].append("mysite.context_processors.site")
SITE_BANNER = "settings-v1"
LOCALE_PATHS = [BASE_DIR / "locale"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "ERROR"}},
}
'''


def run(args, cwd, env=None):
    full_env = dict(os.environ)
    full_env.pop("PYTHONPATH", None)
    full_env.update(env or {})
    result = subprocess.run(args, cwd=str(cwd), env=full_env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(args), result.returncode, result.stdout,
                                                         result.stderr))
    return result.stdout


# With custom_user: an `accounts` app whose User (AUTH_USER_MODEL) is a
# reloaded model, and /mine/ saving a Note owned by request.user.
_CUSTOM_USER_FILES = {
    "accounts/models.py": '''\
from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    def badge(self):
        return "badge-v1"


class Note(models.Model):
    owner = models.ForeignKey(User, on_delete=models.CASCADE)
    text = models.CharField(max_length=50)
''',
    "accounts/admin.py": '''\
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import User

admin.site.register(User, UserAdmin)
''',
    "accounts/views.py": '''\
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse

from .models import Note


@staff_member_required
def mine(request):
    note = Note.objects.create(owner=request.user, text=request.user.badge())
    return HttpResponse("%s %s" % (note.text, type(request.user).__module__))
''',
}


def make_project(root, custom_user=False):
    """The project under `root` (the directory to put on sys.path)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    run([PYTHON, "-m", "django", "startproject", "mysite", str(root)], root)
    run([PYTHON, "manage.py", "startapp", "polls"], root)
    files = dict(_FILES)
    settings_tail = _SETTINGS_TAIL
    apps = ["polls"]
    if custom_user:
        run([PYTHON, "manage.py", "startapp", "accounts"], root)
        files.update(_CUSTOM_USER_FILES)
        # auth.User is swapped out: no admin of it to replace.
        admin_py = files["polls/admin.py"]
        files["polls/admin.py"] = admin_py[:admin_py.index("\n\n# Another app's model")] + "\n"
        files["mysite/urls.py"] = files["mysite/urls.py"].replace(
            '    path("about/", views.about),\n',
            '    path("about/", views.about),\n    path("mine/", accounts_views.mine),\n').replace(
            "from . import views\n", "from accounts import views as accounts_views\n\nfrom . import views\n")
        settings_tail += 'INSTALLED_APPS = INSTALLED_APPS + ["accounts"]\nAUTH_USER_MODEL = "accounts.User"\n'
        apps.append("accounts")
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    settings = root / "mysite" / "settings.py"
    settings.write_text(settings.read_text() + settings_tail)
    write_mo(root, "bonjour-v1")
    run([PYTHON, "manage.py", "makemigrations", *apps], root)
    run([PYTHON, "manage.py", "migrate", "--noinput"], root)
    run([PYTHON, "manage.py", "createsuperuser", "--noinput", "--username", SUPERUSER[0],
         "--email", "admin@example.com"], root, env={"DJANGO_SUPERUSER_PASSWORD": SUPERUSER[1]})
    run([PYTHON, "manage.py", "shell", "-c",
         "from django.utils import timezone; from polls.models import Question;"
         "q = Question.objects.create(question_text='first', pub_date=timezone.now());"
         "q.choice_set.create(choice_text='yes', votes=0)"], root)
    # Servers may run as another user (Apache as www-data): sqlite needs the
    # directory and the file writable, bytecode caches need the packages.
    for path in [root] + [p for p in root.rglob("*")]:
        os.chmod(path, 0o777 if path.is_dir() else 0o666)
    return root


# -- saving ---------------------------------------------------------------------------------


def save(path, text):
    """A temporary file renamed over the original, as vim and most tools save."""
    path = str(path)
    temporary = os.path.join(os.path.dirname(path), ".%s.%d.tmp" % (os.path.basename(path), os.getpid()))
    with open(temporary, "w") as handle:
        handle.write(text)
    os.chmod(temporary, 0o666)
    os.replace(temporary, path)


def write_mo(root, greeting):
    """locale/fr/LC_MESSAGES/django.mo translating "greeting" (a compiled
    catalog written directly: no gettext tools needed)."""
    messages = {"": "Content-Type: text/plain; charset=UTF-8\n", "greeting": greeting}
    keys = sorted(messages)
    originals, translations, data = [], [], b""
    start = 28 + 16 * len(keys)
    for table, texts in ((originals, [k.encode() for k in keys]),
                         (translations, [messages[k].encode() for k in keys])):
        for text in texts:
            table.append((len(text), start + len(data)))
            data += text + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, len(keys), 28, 28 + 8 * len(keys), 0, 0)
    tables = b"".join(struct.pack("<2I", *entry) for entry in originals + translations)
    path = Path(root) / "locale" / "fr" / "LC_MESSAGES" / "django.mo"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(".django.mo.tmp")
    temporary.write_bytes(header + tables + data)
    os.chmod(temporary, 0o666)
    os.replace(temporary, path)


def replace_in(root, relative, old, new):
    path = Path(root) / relative
    text = path.read_text()
    if old not in text:
        raise AssertionError("%r not in %s" % (old, relative))
    save(path, text.replace(old, new))


def insert_before(root, relative, marker, addition):
    path = Path(root) / relative
    text = path.read_text()
    if marker not in text:
        raise AssertionError("%r not in %s" % (marker, relative))
    save(path, text.replace(marker, addition + marker, 1))


# -- an HTTP client with a session -----------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def shows(self, expected):
        return expected in self.text or any(expected == v for v in self.headers.values())

    def __repr__(self):
        return "<Response %d %r %r>" % (self.status, self.body[:400], self.headers)


class Client:
    """Cookies kept (a logged-in admin session); redirects not followed."""

    def __init__(self, port, host="127.0.0.1", timeout=30):
        self.base = "http://%s:%d" % (host, port)
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect)

    def request(self, path, data=None, headers=None):
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=dict(headers or {}))
        try:
            with self.opener.open(request, timeout=self.timeout) as reply:
                return Response(reply.status, reply.read(), dict(reply.headers))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read(), dict(error.headers))

    def get(self, path):
        return self.request(path)

    def post(self, path, data, referer=True):
        headers = {"Referer": self.base + path} if referer else {}
        return self.request(path, data, headers)

    def csrf(self):
        for cookie in self.cookies:
            if cookie.name == "csrftoken":
                return cookie.value
        return None

    def login(self):
        page = self.get("/admin/login/?next=/admin/")
        assert page.status == 200, page
        form = form_fields(page.text)
        form.update(username=SUPERUSER[0], password=SUPERUSER[1])
        reply = self.post("/admin/login/?next=/admin/", form)
        assert reply.status == 302, "admin login failed: %r" % (reply,)


class _FormParser(html.parser.HTMLParser):
    """The fields a browser would submit from the page's main form."""

    def __init__(self):
        super().__init__()
        self.fields = []
        self._textarea = None
        self._select = None
        self._select_value = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append((name, attrs.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select, self._select_value = name, None
        elif tag == "option" and self._select is not None:
            # The selected option, else the first one (as a browser sends).
            if "selected" in attrs or self._select_value is None:
                self._select_value = attrs.get("value") or ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            self.fields.append(tuple(self._textarea))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            self.fields.append((self._select, self._select_value or ""))
            self._select = None


def form_fields(page):
    parser = _FormParser()
    parser.feed(page)
    fields = {}
    for name, value in parser.fields:
        fields.setdefault(name, value)
    return fields


# -- the edits -------------------------------------------------------------------------------

class Edit:
    """One kind of edit: apply(root) saves it; then a request (GET, or POST
    of `data`) to `path`, logged in when `admin`, must show `expected` and
    not `stale` (when given)."""

    def __init__(self, name, apply, path, expected, stale=None, data=None, admin=False, shared=True, warm=False):
        self.name = name
        # Request the page once before the edit (so a cache holds the old state).
        self.warm = warm
        self.apply = apply
        self.path = path
        self.expected = expected
        self.stale = stale
        self.data = data
        self.admin = admin
        # Checks that make sense on every process of a multi-process host
        # (the signal edit creates a row per request: fine too).
        self.shared = shared

    def request(self, client):
        if self.data is not None:
            return client.post(self.path, self.data)
        return client.get(self.path)

    def problem(self, response):
        """None when the response shows the edit, else what is wrong."""
        if response.status != 200:
            return "HTTP %d" % response.status
        if not response.shows(self.expected):
            return "%r not shown" % self.expected
        if self.stale is not None and self.stale in response.text:
            return "stale %r still shown" % self.stale
        return None

    def __repr__(self):
        return "<Edit %s>" % self.name


def _swap(relative, old, new):
    return lambda root: replace_in(root, relative, old, new)


def _new_route(root):
    (Path(root) / "polls/templates/polls").mkdir(parents=True, exist_ok=True)
    save(Path(root) / "polls/templates/polls/fresh.html",
         '{% extends "base.html" %}{% block content %}fresh-route-v2{% endblock %}\n')
    insert_before(root, "polls/views.py", "\n\nclass HelloView",
                  '\n\ndef fresh(request):\n    return render(request, "polls/fresh.html")\n')
    insert_before(root, "polls/urls.py", "]\n", '    path("fresh/", views.fresh, name="fresh"),\n')


def _project_route(root):
    insert_before(root, "mysite/views.py", "\n\ndef about",
                  '\n\ndef status(request):\n    return HttpResponse("status-route-v2")\n')
    insert_before(root, "mysite/urls.py", "]\n", '    path("status/", views.status),\n')


def _new_module(root):
    save(Path(root) / "polls/extra.py", 'def extra():\n    return "new-module-v2"\n')
    save(Path(root) / "polls/helpers.py",
         'from .extra import extra\n\n\ndef greeting():\n    return "helper-v2 " + extra()\n')


def _view_signature(root):
    # A URL converter change plus a view with a new parameter.
    insert_before(root, "polls/views.py", "\n\nclass HelloView",
                  '\n\ndef echo(request, word):\n    return HttpResponse("echo-v2:" + word)\n')
    insert_before(root, "polls/urls.py", "]\n", '    path("echo/<slug:word>/", views.echo),\n')


def edits():
    """The edit kinds, in the order they are made (later ones build on
    earlier ones: the helper module edit is replaced by the new-module one)."""
    return [
        Edit("function view body", _swap("polls/views.py", '"view-v1"', '"view-v2"'), "/polls/", "view-v2"),
        Edit("class-based view", _swap("polls/views.py", '"cbv-v1"', '"cbv-v2"'), "/polls/hello/", "cbv-v2"),
        Edit("generic DetailView context", _swap("polls/views.py", '"detail-v1"', '"detail-v2"'), "/polls/1/",
             "detail-v2"),
        Edit("new route, view and template in the app", _new_route, "/polls/fresh/", "fresh-route-v2"),
        Edit("new route in the project URL conf", _project_route, "/status/", "status-route-v2"),
        Edit("new route with a converter", _view_signature, "/polls/echo/abc/", "echo-v2:abc"),
        Edit("project view", _swap("mysite/views.py", '"about-v1 "', '"about-v2 "'), "/about/", "about-v2"),
        Edit("model method", _swap("polls/models.py", '"model-method-v1"', '"model-method-v2"'), "/polls/",
             "model-method-v2"),
        Edit("form field label", _swap("polls/forms.py", '"form-label-v1"', '"form-label-v2"'), "/polls/vote/",
             "form-label-v2"),
        Edit("form validation", _swap("polls/forms.py", '"form-error-v1"', '"form-error-v2"'), "/polls/vote/",
             "form-error-v2", data={"name": "bad"}),
        Edit("template tag", _swap("polls/templatetags/poll_extras.py", '"tag-v1"', '"tag-v2"'), "/polls/",
             "tag-v2"),
        Edit("template filter", _swap("polls/templatetags/poll_extras.py", '"-filter-v1"', '"-filter-v2"'),
             "/polls/", "X-filter-v2"),
        Edit("app template", _swap("polls/templates/polls/index.html", "index-template-v1",
                                   "index-template-v2"), "/polls/", "index-template-v2"),
        Edit("project base template ({% extends %} parent)", _swap("templates/base.html", "base-v1", "base-v2"),
             "/polls/", "base-v2"),
        Edit("DetailView template", _swap("polls/templates/polls/detail.html", "detail-template-v1",
                                          "detail-template-v2"), "/polls/1/", "detail-template-v2"),
        Edit("module a view imports", _swap("polls/helpers.py", '"helper-v1"', '"helper-v2"'), "/polls/",
             "helper-v2"),
        Edit("new module imported by a view's import", _new_module, "/polls/", "new-module-v2"),
        Edit("translation catalog (.mo)", lambda root: write_mo(root, "bonjour-v2"), "/fr/", "bonjour-v2",
             warm=True),
        Edit("middleware", _swap("mysite/middleware.py", '"middleware-v1"', '"middleware-v2"'), "/about/",
             "middleware-v2"),
        Edit("context processor", _swap("mysite/context_processors.py", '"ctxproc-v1"', '"ctxproc-v2"'),
             "/polls/", "ctxproc-v2"),
        Edit("signal receiver (connected in AppConfig.ready)", _swap("polls/signals.py", '" sig-v1"',
                                                                     '" sig-v2"'),
             "/polls/create/", "made sig-v2", stale="sig-v1"),
        Edit("admin list_display column", _swap("polls/admin.py", '"ADMINCOL-V1"', '"ADMINCOL-V2"'),
             "/admin/polls/question/", "ADMINCOL-V2", admin=True),
        Edit("admin list_display method", _swap("polls/admin.py", '"recent-v1"', '"recent-v2"'),
             "/admin/polls/question/", "recent-v2", admin=True),
        Edit("admin of another app's model (UserAdmin replaced)", _swap("polls/admin.py", '"USERCOL-V1"',
                                                                        '"USERCOL-V2"'),
             "/admin/auth/user/", "USERCOL-V2", admin=True),
        Edit("admin inline", _swap("polls/admin.py", "extra = 1", "extra = 4"), "/admin/polls/question/1/change/",
             'name="choice_set-TOTAL_FORMS" value="5"', admin=True),
        Edit("model __str__ (admin change form)", _swap("polls/models.py", '"str-v1:"', '"str-v2:"'),
             "/admin/polls/question/1/change/", "str-v2:first", admin=True),
    ]


def representative(names=("function view body", "class-based view", "new route, view and template in the app",
                          "model method", "form field label", "template tag", "app template",
                          "module a view imports", "admin list_display column", "admin inline")):
    """A subset for the multi-process hosts."""
    chosen = [e for e in edits() if e.name in names]
    assert len(chosen) == len(names)
    return chosen


# Requests an edit may take to have been answered by every process.
MAX_REQUESTS_PER_EDIT = 30


def run_edits(root, client, admin_client, chosen=None, repeat=1, processes=1):
    """Makes each edit and sends the next request(s) at once: at least
    `repeat`, and until `processes` different processes (the X-Pid header)
    have answered; every one must show the edit. Returns (passed names,
    [(name, problem, response)])."""
    passed, failed = [], []
    for edit in (chosen if chosen is not None else edits()):
        if edit.warm:
            for _ in range(max(processes, 1) * 2):
                edit.request(admin_client if edit.admin else client)
        edit.apply(root)
        pids, count, problem, response = set(), 0, None, None
        while count < repeat or (len(pids) < processes and count < MAX_REQUESTS_PER_EDIT):
            response = edit.request(admin_client if edit.admin else client)
            problem = edit.problem(response)
            if problem:
                break
            pids.add(response.headers.get("X-Pid"))
            count += 1
        if problem is None and len(pids) < processes:
            problem = "only %d of %d processes answered in %d requests" % (len(pids), processes, count)
        if problem:
            failed.append((edit.name, problem, response))
        else:
            passed.append(edit.name)
    return passed, failed


def report_failures(failed):
    """The failures run_edits returned, one "name: problem (response)" a line."""
    return "\n".join("%s: %s (%r)" % (name, problem, response) for name, problem, response in failed)


def admin_round_trip(client, new_text):
    """GET the change form of question 1 and POST it back with a new text
    (inline rows included): the admin works with the reloaded classes."""
    page = client.get("/admin/polls/question/1/change/")
    assert page.status == 200, page
    fields = form_fields(page.text)
    assert "csrfmiddlewaretoken" in fields and "choice_set-TOTAL_FORMS" in fields, sorted(fields)
    fields["question_text"] = new_text
    fields["_save"] = "Save"
    reply = client.post("/admin/polls/question/1/change/", fields)
    assert reply.status == 302, "admin POST did not save: %r" % (reply,)
    return reply


def watch_settings_edit(client, root, timeout=30.0):
    """Saves the settings edit and asks /about/ until the new value shows.
    Returns the answers in order, as "old", "new", "retry" (a 307 to the same
    URL: the process is being replaced) or "error" (no response: the
    connection closed with the old process). After the save no answer may
    come from the old code, before or after the new value first shows."""
    import time
    settings_edit(root)
    answers = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = client.get("/about/")
        except OSError:
            answers.append("error")
            time.sleep(0.05)
            continue
        if response.status == 307:
            answers.append("retry")
        elif "settings-v2" in response.text:
            answers.append("new")
            if answers.count("new") >= 8:
                break
        elif "settings-v1" in response.text:
            answers.append("old")
        else:
            answers.append("HTTP %d" % response.status)
    return answers


def settings_edit(root):
    replace_in(root, "mysite/settings.py", 'SITE_BANNER = "settings-v1"', 'SITE_BANNER = "settings-v2"')


def readme_example(language, containing):
    """The README's example in a ```language block that contains
    `containing`, with its app package `blog` read as this project's `polls`
    (the README's examples name a project mysite with an app blog)."""
    readme = Path(__file__).resolve().parents[3] / "README.md"
    blocks = [block for block in re.findall(r"```%s\n(.*?)```" % re.escape(language), readme.read_text(), re.S)
              if containing in block]
    if len(blocks) != 1:
        raise AssertionError("%d ```%s blocks of README.md contain %r" % (len(blocks), language, containing))
    return blocks[0].replace("mysite blog", "mysite polls")


def warnings_in(log):
    """Lines of a server log that say models were registered twice."""
    return [line for line in log.splitlines()
            if "already registered" in line or "Reloading models is not advised" in line]
