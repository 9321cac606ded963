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
    dependents, fallback = graph.dependents(names)
    if fallback:
        return None, "the import graph cannot tell: %s" % fallback
    dependents = set(dependents) | names
    if any(name == "conftest" or name.endswith(".conftest") for name in dependents):
        return None, "a conftest.py imports a changed module"
    files = {path for path, name in test_modules.items() if name in dependents}
    files.update(p for p in changed if p in test_modules)
    files.update(os.path.abspath(p) for p in new_test_files)
    return files, None
