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

Bytecode caches and version-control directories are skipped.
"""

import glob
import importlib.util
import os

_SKIPPED_DIRS = frozenset(("__pycache__", ".git", ".hg", ".svn"))
_SKIPPED_SUFFIXES = (".pyc", ".pyo")


def app_directory(spec):
    """The directory relative watch paths are resolved against.

    A file app (``/srv/site/app.wsgi``): its directory. A module app
    (``mysite.wsgi:application``): the ``sys.path`` directory its top-level
    package was found in (the project root, ``/srv/mysite`` for
    ``/srv/mysite/mysite/wsgi.py``). Otherwise the current directory."""
    if spec.kind == "file":
        return os.path.dirname(spec.target)
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


def _skipped(name):
    return name in _SKIPPED_DIRS


def _skipped_file(name):
    return name.endswith(_SKIPPED_SUFFIXES)


def _walk(directory, files, directories):
    """Every file and directory under `directory`, recursively."""
    directories.add(directory)
    for root, dirnames, filenames in os.walk(directory):
        dirnames[:] = [d for d in dirnames if not _skipped(d)]
        for d in dirnames:
            directories.add(os.path.join(root, d))
        for f in filenames:
            if not _skipped_file(f):
                files.add(os.path.join(root, f))


def _split_magic(pattern):
    """(the longest leading part without glob magic, the remaining components)."""
    parts = pattern.split(os.sep)
    for index, part in enumerate(parts):
        if glob.has_magic(part):
            base = os.sep.join(parts[:index]) or os.sep
            return base, parts[index:]
    return pattern, []


def _expand_glob(pattern, files, directories, absent):
    base, rest = _split_magic(pattern)
    if not os.path.isdir(base):
        absent.add(base)  # creating it is a change
        return
    # Directories a new match could appear in.
    if "**" in rest:
        _walk_dirs(base, directories)
    else:
        directories.add(base)
        current = [base]
        for part in rest[:-1]:
            following = []
            for directory in current:
                for match in glob.glob(os.path.join(glob.escape(directory), part)):
                    if os.path.isdir(match) and not _skipped(os.path.basename(match)):
                        directories.add(match)
                        following.append(match)
            current = following
    for match in glob.glob(pattern, recursive=True):
        name = os.path.basename(match)
        if os.path.isdir(match):
            if not _skipped(name):
                _walk(match, files, directories)
        elif not _skipped_file(name):
            files.add(match)


def _walk_dirs(directory, directories):
    directories.add(directory)
    for root, dirnames, _files in os.walk(directory):
        dirnames[:] = [d for d in dirnames if not _skipped(d)]
        for d in dirnames:
            directories.add(os.path.join(root, d))


class PathSet:
    """The expanded paths of one option's entries (absolute, normalised)."""

    def __init__(self, entries, base_directory):
        self.entries = [os.path.normpath(os.path.join(base_directory, os.path.expanduser(e)))
                        for e in entries]
        self.files = frozenset()
        self.directories = frozenset()
        self.absent = frozenset()
        if self.entries:
            self.refresh()

    def __bool__(self):
        return bool(self.entries)

    def paths(self):
        """Everything to hand to the detector."""
        return self.files | self.directories | self.absent

    def refresh(self):
        """Expands the entries again; True when the result differs."""
        files, directories, absent = set(), set(), set()
        for entry in self.entries:
            if glob.has_magic(entry):
                _expand_glob(entry, files, directories, absent)
            elif os.path.isdir(entry):
                _walk(entry, files, directories)
            else:
                files.add(entry)  # present or not: its creation is a change too
        result = (frozenset(files), frozenset(directories), frozenset(absent))
        changed = result != (self.files, self.directories, self.absent)
        self.files, self.directories, self.absent = result
        return changed

    def __contains__(self, path):
        return path in self.files or path in self.directories or path in self.absent
