"""The multi-module app edited under load, the editor that saves it, and
the verifier that checks every response against the history of what was on
disk.

The package `relapp`:

    relapp/__init__.py      VERSION                    key "init"
    relapp/wsgi.py          VERSION, application       key "wsgi" (the app spec's module)
    relapp/views.py         VERSION                    key "views"
    relapp/models.py        VERSION                    key "models"
    relapp/util.py          VERSION                    key "util"
    relapp/extra.py         VERSION (optional import)  key "extra" (None when the file is absent)
    relapp/pair/__init__.py VERSION                    key "pair"
    relapp/pair/a.py        VERSION                    key "pair_a"
    relapp/pair/b.py        VERSION                    key "pair_b"
    relapp/newmod.py        VERSION                    key "newmod" (reported once wsgi imports it)

Every save writes a new, unique version token (a module's version is the
last `VERSION = (...)` in it). Each response is JSON: the worker's pid and
the token of every module the request used.

Definitions used by the verdict (see docs/reliability.md):

* A *disk state* is the token of every module after one file-system
  operation of the editor (one rename, one write, one unlink, one directory
  exchange). The editor is the only writer, so the states form a sequence.
* A response is **mixed** when its tokens are not one disk state: it
  combines modules from different moments (e.g. pair_a from one edit step
  and pair_b from another, or a stale bytecode file's old module next to
  newer ones). Target: 0, always.
* A *sequential multi-file save* (pair/a.py then pair/b.py; "save all" of
  models, util, views) is several renames: the states between them are
  real and may be served to a request sent before the last rename became
  visible (+ SETTLE). Such responses are counted separately as in-window;
  one served later is stale.
* A response is **stale** when its request was sent more than SETTLE
  seconds after a newer state was complete and it shows an older one.
"""

import json
import os
import random
import shutil
import time

from rel_common import append_in_place, atomic_write, exchange, overwrite_in_place

PACKAGE = "relapp"
SPEC = "relapp.wsgi:application"
# How long a completed save may take to become visible to a request: the
# per-request check reads a flag that a monitor thread raises on inotify
# events (microseconds idle; scheduling latency on 2 busy CPUs).
SETTLE = 0.25

KEYS = ("init", "wsgi", "views", "models", "util", "extra", "pair", "pair_a", "pair_b", "newmod")
FILES = {
    "init": "__init__.py", "wsgi": "wsgi.py", "views": "views.py", "models": "models.py", "util": "util.py",
    "extra": "extra.py", "pair": "pair/__init__.py", "pair_a": "pair/a.py", "pair_b": "pair/b.py",
    "newmod": "newmod.py",
}

MODULE = '''\
# {key}: a module of the pyfresh reliability test app.
# Its version is the last VERSION assignment; in-place saves append one.
VERSION = ("{token}")
'''

WSGI = '''\
# wsgi: the app of the pyfresh reliability test; reports every module's version.
import json
import os

import relapp
import relapp.pair as pair
from relapp import models, util, views
from relapp.pair import a as pair_a
from relapp.pair import b as pair_b

try:
    from relapp import extra
except ImportError:
    extra = None
{newmod_import}

def application(environ, start_response):
    markers = {{
        "init": relapp.VERSION, "wsgi": VERSION, "views": views.VERSION, "models": models.VERSION,
        "util": util.VERSION, "extra": extra.VERSION if extra is not None else None, "pair": pair.VERSION,
        "pair_a": pair_a.VERSION, "pair_b": pair_b.VERSION,
    }}
{newmod_report}
    body = json.dumps({{"pid": os.getpid(), "m": markers}}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


VERSION = ("{token}")
'''

# Each appended line fits in one page with the file: a reader of the file
# sees the append whole or not at all. Any proper prefix of it is a syntax
# or name error, never another valid version: a torn append would show up
# as a failed request, not as a wrong version.
APPEND = 'VERSION = ("{token}")\n'
MAX_APPENDED_SIZE = 3000


class State:
    """The tokens on disk (None: file absent) and whether wsgi imports newmod."""

    def __init__(self, tokens, imports_newmod):
        self.tokens = dict(tokens)
        self.imports_newmod = imports_newmod

    def key(self):
        reported = [k for k in KEYS if k != "newmod" or self.imports_newmod]
        return tuple((k, self.tokens[k]) for k in reported)


class History:
    def __init__(self):
        self.states = []       # State
        self.completed = []    # monotonic time the operation returned
        self.step = []         # edit step that made it
        self.intermediate = [] # True: a later operation of the same step follows
        self.by_key = {}

    def add(self, state, step, intermediate=False):
        self.states.append(state)
        self.completed.append(time.monotonic())
        self.step.append(step)
        self.intermediate.append(intermediate)
        self.by_key.setdefault(state.key(), []).append(len(self.states) - 1)


class Editor:
    """Saves the app the way editors and tools do; records every disk state."""

    KINDS = ("atomic", "append", "same_size_a", "same_size_b", "older_mtime", "delete", "recreate",
             "two_file_atomic", "append_init", "two_file_sequential", "atomic_spec", "save_all")

    def __init__(self, root, own=lambda path: None, seed=5):
        self.root = root
        self.package = os.path.join(root, PACKAGE)
        self.own = own
        self.random = random.Random(seed)
        self.tokens = {k: None for k in KEYS}
        self.imports_newmod = False
        self.history = History()
        self.counts = {}
        self.file_writes = 0
        self.same_second_pairs = 0
        self.same_size_pair_log = []

    # -- the app ------------------------------------------------------------------

    def path(self, key):
        return os.path.join(self.package, FILES[key])

    def _module_text(self, key, token):
        if key == "wsgi":
            return WSGI.format(
                token=token,
                newmod_import="from relapp import newmod" if self.imports_newmod else "",
                newmod_report='    markers["newmod"] = newmod.VERSION' if self.imports_newmod else "")
        return MODULE.format(key=key, token=token)

    def create(self):
        os.makedirs(os.path.join(self.package, "pair"), exist_ok=True)
        for key in KEYS:
            if key == "newmod":
                continue
            self.tokens[key] = "%s-0000" % key
            atomic_write(self.path(key), self._module_text(key, self.tokens[key]))
        self.own(self.package)
        self._record(step=0)

    def _record(self, step, intermediate=False):
        self.history.add(State(self.tokens, self.imports_newmod), step, intermediate)

    def state(self):
        return State(self.tokens, self.imports_newmod)

    # -- one edit step ------------------------------------------------------------

    def plan(self, steps):
        kinds = [self.KINDS[i % len(self.KINDS)] for i in range(steps)]
        # The new module: created (nothing imports it), then imported.
        at = max(1, steps // 3)
        if steps >= 4:
            kinds[at] = "create_newmod"
            kinds[at + 1] = "import_newmod"
        # Pairs stay pairs: same_size_a then same_size_b, delete then recreate.
        for first, second in (("same_size_a", "same_size_b"), ("delete", "recreate")):
            for i, kind in enumerate(kinds):
                if kind == first and (i + 1 == len(kinds) or kinds[i + 1] != second):
                    kinds[i] = "atomic"
                if kind == second and (i == 0 or kinds[i - 1] != first):
                    kinds[i] = "atomic"
        return kinds

    def token(self, key, step, suffix=""):
        return "%s-%04d%s" % (key, step, suffix)

    def save(self, step, kind):
        """Makes edit step `step` of `kind`; returns how long to pause."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        pause = self.random.uniform(0.02, 0.3)
        if kind == "atomic":
            key = self.random.choice(("views", "models", "util", "pair"))
            self._atomic(key, step)
        elif kind == "atomic_spec":
            self._atomic("wsgi", step)
        elif kind in ("append", "append_init"):
            key = "models" if kind == "append" else ("newmod" if self.imports_newmod and step % 2 else "init")
            self._append(key, step)
        elif kind == "same_size_a":
            # Both saves of the pair within one second of mtime: start early in a second.
            fraction = time.time() % 1.0
            if fraction > 0.6:
                time.sleep(1.0 - fraction + 0.01)
            self._atomic("util", step, suffix="a")
            self._pair_stat = os.stat(self.path("util"))
            pause = 0.02
        elif kind == "same_size_b":
            # Same size, same second, written in place: one byte differs.
            before = self._pair_stat
            token = self.tokens["util"][:-1] + "b"
            text = self._module_text("util", token)
            assert len(text.encode()) == before.st_size
            overwrite_in_place(self.path("util"), text)
            self.tokens["util"] = token
            self.file_writes += 1
            self._record(step)
            after = os.stat(self.path("util"))
            same = after.st_size == before.st_size and int(after.st_mtime) == int(before.st_mtime)
            self.same_second_pairs += same
            self.same_size_pair_log.append((before.st_mtime_ns, after.st_mtime_ns, before.st_size, after.st_size))
        elif kind == "older_mtime":
            key = self.random.choice(("views", "models"))
            self._atomic(key, step, mtime=time.time() - 3600)
        elif kind == "delete":
            os.unlink(self.path("extra"))
            self.tokens["extra"] = None
            self.file_writes += 1
            self._record(step)
            pause = 0.3
        elif kind == "recreate":
            self._atomic("extra", step)
        elif kind == "two_file_atomic":
            self._pair_exchange(step)
        elif kind == "two_file_sequential":
            token_a, token_b = self.token("pair_a", step), self.token("pair_b", step)
            atomic_write(self.path("pair_a"), self._module_text("pair_a", token_a))
            self.tokens["pair_a"] = token_a
            self._record(step, intermediate=True)
            atomic_write(self.path("pair_b"), self._module_text("pair_b", token_b))
            self.tokens["pair_b"] = token_b
            self._record(step)
            self.file_writes += 2
        elif kind == "save_all":
            # An IDE's "save all" or a `git checkout`: several files saved one
            # after the other (in the order the app imports them), no pause.
            keys = ("models", "util", "views")
            for index, key in enumerate(keys):
                token = self.token(key, step)
                atomic_write(self.path(key), self._module_text(key, token))
                self.tokens[key] = token
                self._record(step, intermediate=index + 1 < len(keys))
            self.file_writes += len(keys)
        elif kind == "create_newmod":
            self._atomic("newmod", step)
        elif kind == "import_newmod":
            self.imports_newmod = True
            self._atomic("wsgi", step)
        else:
            raise AssertionError(kind)
        return pause

    def _atomic(self, key, step, suffix="", mtime=None):
        token = self.token(key, step, suffix)
        atomic_write(self.path(key), self._module_text(key, token), mtime=mtime)
        self.tokens[key] = token
        self.file_writes += 1
        self._record(step)

    def _append(self, key, step):
        path = self.path(key)
        token = self.token(key, step)
        line = APPEND.format(token=token)
        size = os.path.getsize(path)
        if size + len(line) > MAX_APPENDED_SIZE:
            self._atomic(key, step)  # start the file afresh (an atomic save)
            return
        append_in_place(path, line)
        self.tokens[key] = token
        self.file_writes += 1
        self._record(step)

    def _pair_exchange(self, step):
        """pair/a.py and pair/b.py change together: a complete new pair/
        directory is swapped in with one renameat2(RENAME_EXCHANGE)."""
        current = os.path.join(self.package, "pair")
        staged = os.path.join(self.package, ".pair-next")
        shutil.rmtree(staged, ignore_errors=True)
        os.makedirs(staged)
        os.chmod(staged, 0o755)
        token_a, token_b = self.token("pair_a", step), self.token("pair_b", step)
        atomic_write(os.path.join(staged, "__init__.py"), self._module_text("pair", self.tokens["pair"]))
        atomic_write(os.path.join(staged, "a.py"), self._module_text("pair_a", token_a))
        atomic_write(os.path.join(staged, "b.py"), self._module_text("pair_b", token_b))
        self.own(staged)
        exchange(staged, current)
        self.tokens["pair_a"], self.tokens["pair_b"] = token_a, token_b
        self.file_writes += 2
        self._record(step)
        shutil.rmtree(staged, ignore_errors=True)


class Verdict:
    """Every response checked against the history."""

    def __init__(self, history, records, settle=SETTLE):
        self.history = history
        self.records = records
        self.settle = settle
        self.requests = len(records)
        self.failures = []          # non-2xx, unreadable, refused, timed out
        self.mixed = []             # tokens that were never on disk together
        self.stale = []             # an older state after a newer one was visible
        self.in_window = 0          # intermediate state of a sequential multi-file save, in its window
        self.max_lag = 0.0          # longest a completed state took to be served (s)
        self.pids = set()
        self.states_seen = set()
        self._check()

    def _check(self):
        completed = self.history.completed
        for record in self.records:
            if record.error is not None or record.status != 200:
                self.failures.append(record)
                continue
            try:
                answer = json.loads(record.body)
                markers = answer["m"]
                self.pids.add(answer["pid"])
            except (ValueError, KeyError, TypeError):
                self.failures.append(record)
                continue
            key = tuple((k, markers[k]) for k in KEYS if k in markers)
            indices = self.history.by_key.get(key)
            if not indices:
                self.mixed.append(record)
                continue
            best = max(indices)
            self.states_seen.add(best)
            # The newest state complete SETTLE s before the request was sent.
            newest = self._newest_before(record.sent - self.settle)
            if best < newest:
                self.stale.append(record)
                continue
            # How long after a newer state had completed this older one was still served.
            following = self._newest_before(record.sent)
            if best < following:
                self.max_lag = max(self.max_lag, record.sent - completed[best + 1])
            if all(self.history.intermediate[i] for i in indices):
                self.in_window += 1

    def _newest_before(self, moment):
        completed = self.history.completed
        low, high = 0, len(completed)
        while low < high:
            middle = (low + high) // 2
            if completed[middle] <= moment:
                low = middle + 1
            else:
                high = middle
        return max(low - 1, 0)

    def describe(self, records, limit=5):
        lines = []
        for record in records[:limit]:
            lines.append("sent %.3f status %s error %s body %r" % (record.sent, record.status, record.error,
                                                                 record.body[:400]))
        return "\n".join(lines)
