"""Non-Python files tracked by a Reloader: the `watch` and `restart-on` options.

Each entry is a file, a directory (watched recursively) or a glob pattern
(``*``, ``?``, ``[...]``; ``**`` matches any number of directories). A
relative entry is relative to the app's directory (see
:func:`app_directory`). Expanding the entries gives the paths handed to the
change detector:

* every matching file, and a named file that does not exist yet (its
  creation is a change);
* every directory that could receive a new matching file: a watched
  directory and its subdirectories, and the directories a glob pattern
  reaches. A directory's identity changes when an entry is created, removed
  or renamed, so new files are noticed; :meth:`PathSet.refresh` then tells
  whether the set of matching files really changed (a new template does, an
  editor's swap file does not).

Bytecode caches, version-control directories, the files editors keep next
to the file being edited (:data:`IGNORED_NAME_PATTERNS`, plus the patterns
of the ``watch-ignore`` option) and the kernel's pseudo filesystems
(``/proc``, ``/sys``, ``/dev``) are skipped; a file named by an entry itself
is never skipped. One option's entries
expand to at most :data:`MAX_WATCHED_PATHS` files and directories: an entry
that reaches further (``watch = /usr``, ``PyFreshWatch ../../..``) is refused
with an error naming it when the Reloader is built, and a watched tree that
grows past the bound later keeps its last expansion, with an error logged.
"""

import fnmatch
import glob
import importlib.util
import os
import re

from .config import ConfigError
from .log import logger

_SKIPPED_DIRS = frozenset(("__pycache__", ".git", ".hg", ".svn"))
_SKIPPED_SUFFIXES = (".pyc", ".pyo")

# File names (fnmatch patterns, case-sensitive) of what editors create,
# rewrite and remove next to a file while it is being edited. Each would
# otherwise count as a new watched file and reload the app (losing its
# state) while the user is only typing.
IGNORED_NAME_PATTERNS = (
    ".*.sw[a-p]",                       # vim swap files: .page.html.swp, then .swo, .swn, ...
    ".*.swx",                           # vim's probe swap file
    "*~",                               # vim and emacs backups
    "4913",                             # vim's probe that the directory is writable
    ".#*",                              # emacs lock files (dangling symbolic links)
    "#*#",                              # emacs auto-saves
    "*___jb_tmp___", "*___jb_old___",   # JetBrains "safe write"
)


def _name_matcher(extra_patterns=()):
    """One compiled regex for IGNORED_NAME_PATTERNS and `extra_patterns`
    (the watch-ignore option), case-sensitive like the built-ins."""
    patterns = list(IGNORED_NAME_PATTERNS) + [p for p in extra_patterns if p not in IGNORED_NAME_PATTERNS]
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))


_IGNORED_NAME = _name_matcher()
# Their files "change" on every look and are never app files.
_PSEUDO_FILESYSTEMS = frozenset(("/proc", "/sys", "/dev"))

# Files and directories one option's entries may expand to. Tracking costs
# memory and inotify watches per path (watch=/usr: 138,000 files, 13,000
# watches, 125 MB, 2.7 s to build); templates and config trees are far below.
MAX_WATCHED_PATHS = 20_000


class WatchTooLarge(ConfigError):
    """An entry expands to more than MAX_WATCHED_PATHS paths."""


def app_directory(spec):
    """The directory relative watch paths are resolved against.

    A file app (``/srv/site/app.wsgi``): its directory. A module app
    (``mysite.wsgi:application``): the ``sys.path`` directory its top-level
    package was found in (the project root, ``/srv/mysite`` for
    ``/srv/mysite/mysite/wsgi.py``). A directory (the test loop's rootdir):
    itself. Otherwise the current directory."""
    if spec.kind == "file":
        return os.path.dirname(spec.target)
    if spec.kind == "directory":
        return spec.target
    top = spec.target.partition(".")[0]
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        found = None
    if found is not None:
        locations = list(found.submodule_search_locations or ())
        if locations:
            return os.path.dirname(os.path.abspath(locations[0]))
        if found.has_location and found.origin:
            return os.path.dirname(os.path.abspath(found.origin))
    return os.getcwd()


class _Budget:
    """Counts the paths an expansion adds; raises past the bound."""

    def __init__(self, option, entry):
        self.option = option
        self.entry = entry
        self.left = MAX_WATCHED_PATHS

    def take(self, count=1):
        self.left -= count
        if self.left < 0:
            raise WatchTooLarge(
                "%s %r reaches more than %s files and directories (pyfresh stops counting there); "
                "watch a smaller directory, or a glob pattern such as 'templates/**/*.html'"
                % (self.option, self.entry, format(MAX_WATCHED_PATHS, ",")))


def _skipped(name):
    return name in _SKIPPED_DIRS


def _in_pseudo_filesystem(path):
    return any(path == root or path.startswith(root + os.sep) for root in _PSEUDO_FILESYSTEMS)


def _descend(root, dirnames):
    """The subdirectories of `root` a walk enters."""
    return [d for d in dirnames
            if not _skipped(d) and os.path.join(root, d) not in _PSEUDO_FILESYSTEMS]


def _skipped_file(name, ignored=_IGNORED_NAME):
    return name.endswith(_SKIPPED_SUFFIXES) or ignored.match(name) is not None


def _walk(directory, directories, budget, files=None, ignored=_IGNORED_NAME):
    """Every directory under `directory`, recursively, into `directories`;
    with `files`, every file too (but those `ignored` matches)."""
    if _in_pseudo_filesystem(directory):
        return
    budget.take()
    directories.add(directory)
    for root, dirnames, filenames in os.walk(directory):
        dirnames[:] = _descend(root, dirnames)
        budget.take(len(dirnames) + (len(filenames) if files is not None else 0))
        for d in dirnames:
            directories.add(os.path.join(root, d))
        if files is not None:
            files.update(os.path.join(root, f) for f in filenames if not _skipped_file(f, ignored))


def _split_magic(pattern):
    """(the longest leading part without glob magic, the remaining components)."""
    parts = pattern.split(os.sep)
    for index, part in enumerate(parts):
        if glob.has_magic(part):
            base = os.sep.join(parts[:index]) or os.sep
            return base, parts[index:]
    return pattern, []


def _expand_glob(pattern, files, directories, absent, budget, ignored=_IGNORED_NAME):
    base, rest = _split_magic(pattern)
    if _in_pseudo_filesystem(base):
        return
    if not os.path.isdir(base):
        absent.add(base)  # creating it is a change
        return
    # Directories a new match could appear in.
    if "**" in rest:
        _walk(base, directories, budget)
    else:
        budget.take()
        directories.add(base)
        current = [base]
        for part in rest[:-1]:
            following = []
            for directory in current:
                for match in glob.glob(os.path.join(glob.escape(directory), part)):
                    if os.path.isdir(match) and not _skipped(os.path.basename(match)):
                        budget.take()
                        directories.add(match)
                        following.append(match)
            current = following
    for match in glob.iglob(pattern, recursive=True):
        name = os.path.basename(match)
        if os.path.isdir(match):
            if not _skipped(name):
                _walk(match, directories, budget, files, ignored)
        elif not _skipped_file(name, ignored) and not _in_pseudo_filesystem(match):
            budget.take()
            files.add(match)


class PathSet:
    """The expanded paths of one option's entries (absolute, normalised).
    `ignore`: file-name patterns skipped besides IGNORED_NAME_PATTERNS (the
    watch-ignore option). Raises WatchTooLarge when an entry reaches too far."""

    def __init__(self, entries, base_directory, option="watch=", ignore=()):
        self.option = option
        self._ignored = _name_matcher(ignore) if ignore else _IGNORED_NAME
        self.entries = [os.path.normpath(os.path.join(base_directory, os.path.expanduser(e)))
                        for e in entries]
        self.files = frozenset()
        self.directories = frozenset()
        self.absent = frozenset()
        self._too_large = None
        if self.entries:
            self._expand()

    def __bool__(self):
        return bool(self.entries)

    def paths(self):
        """Everything to hand to the detector."""
        return self.files | self.directories | self.absent

    def refresh(self):
        """Expands the entries again; True when the result differs. Past
        the bound the last expansion stays, and the error is logged once."""
        try:
            return self._expand()
        except WatchTooLarge as error:
            if str(error) != self._too_large:
                self._too_large = str(error)
                logger.error("%s; still watching the %d paths found before", error, len(self.paths()))
            return False

    def _expand(self):
        files, directories, absent = set(), set(), set()
        budget = _Budget(self.option, "")
        for entry in self.entries:
            budget.entry = entry
            if glob.has_magic(entry):
                _expand_glob(entry, files, directories, absent, budget, self._ignored)
            elif os.path.isdir(entry):
                _walk(entry, directories, budget, files, self._ignored)
            elif not _in_pseudo_filesystem(entry):
                budget.take()
                files.add(entry)  # present or not: its creation is a change too
        result = (frozenset(files), frozenset(directories), frozenset(absent))
        changed = result != (self.files, self.directories, self.absent)
        self.files, self.directories, self.absent = result
        self._too_large = None
        return changed

    def add(self, entries, base_directory=""):
        """Adds entries not there yet (framework integrations' template
        folders) and expands. Returns the paths this added."""
        before = self.paths()
        new = [os.path.normpath(os.path.join(base_directory, os.path.expanduser(e))) for e in entries]
        new = [e for e in dict.fromkeys(new) if e not in self.entries]
        if not new:
            return frozenset()
        self.entries.extend(new)
        self.refresh()
        return self.paths() - before

    def __contains__(self, path):
        return path in self.files or path in self.directories or path in self.absent
