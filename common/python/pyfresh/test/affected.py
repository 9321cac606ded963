"""Which test files a save affects: the test modules that import a changed
module, directly or transitively (the import graph of issue 13's
`dependents` scope), the changed and new test files themselves.

`affected_test_files` answers ``(files, None)`` or ``(None, reason)``: None
means every test is affected (a conftest.py changed, the graph cannot be
trusted for this change, or there is no graph), and the reason says why.
"""

import os


def affected_test_files(graph, changed_paths, test_modules, new_test_files=()):
    """`graph`: the reloader's ImportGraph or None; `changed_paths`: the
    stale files; `test_modules`: test file -> module name, as collected by
    the previous round; `new_test_files`: test files that round did not
    have (always affected)."""
    changed = [os.path.abspath(p) for p in changed_paths]
    conftests = [p for p in changed if os.path.basename(p) == "conftest.py"]
    if conftests:
        return None, "%s changed: its fixtures and hooks reach every test under it" % conftests[0]
    if graph is None:
        return None, "no import graph in this engine"
    names = set(graph.modules_of_files(changed))
    for path in changed:
        # A watched data file (or a directory whose new entries are the
        # new test files): which tests read it cannot be told.
        if not os.path.isdir(path) and path not in test_modules and not graph.modules_of_files([path]):
            return None, "%s is not a module the tests import" % path
    dependents, fallback = graph.dependents(names)
    if fallback:
        return None, "the import graph cannot tell: %s" % fallback
    # dependents() answers for loaded modules only (what a reload clears);
    # a test module the last round did not import (--affected-only, or a
    # part not reached) is affected all the same.
    dependents = set(dependents) | _importers_closure(graph, names)
    if any(name == "conftest" or name.endswith(".conftest") for name in dependents):
        return None, "a conftest.py imports a changed module"
    files = {path for path, name in test_modules.items() if name in dependents}
    files.update(p for p in changed if p in test_modules)
    files.update(os.path.abspath(p) for p in new_test_files)
    return files, None


def _importers_closure(graph, names):
    """`names` and every module recorded as importing one of them, directly
    or transitively, loaded or not."""
    seen = set(names)
    todo = list(names)
    while todo:
        for importer in graph.importers(todo.pop()):
            if importer not in seen:
                seen.add(importer)
                todo.append(importer)
    return seen
