"""pyfresh.test.affected: which test files a save affects, against a small
recorded graph (no pytest session, no subprocess)."""

import os

from pyfresh.test.affected import affected_test_files


class FakeGraph:
    """importers: name -> set of direct importers; files: path -> names;
    unknown: names whose importers cannot be told."""

    def __init__(self, importers, files, unknown=()):
        self._importers = importers
        self._files = files
        self._unknown = set(unknown)

    def modules_of_files(self, paths):
        return {n for p in paths for n in self._files.get(p, ())}

    def importers(self, name):
        return set(self._importers.get(name, ()))

    def dependents(self, names):
        seen, todo = set(names), list(names)
        while todo:
            for importer in self.importers(todo.pop()):
                if importer not in seen:
                    seen.add(importer)
                    todo.append(importer)
        for name in sorted(seen):
            if name in self._unknown:
                return seen, "%s: imported by name" % name
        return seen, None


ROOT = os.path.abspath("/srv/proj")
LEAF = ROOT + "/app/leaf.py"
MID = ROOT + "/app/mid.py"
DATA = ROOT + "/data.txt"
T_LEAF = ROOT + "/tests/test_leaf.py"
T_MID = ROOT + "/tests/test_mid.py"
T_OTHER = ROOT + "/tests/test_other.py"
TESTS = {T_LEAF: "test_leaf", T_MID: "test_mid", T_OTHER: "test_other"}


def graph(unknown=()):
    return FakeGraph({"app.leaf": {"app.mid", "test_leaf"}, "app.mid": {"test_mid"}, "app.other": {"test_other"}},
                     {LEAF: {"app.leaf"}, MID: {"app.mid"}, T_LEAF: {"test_leaf"}, T_MID: {"test_mid"},
                      T_OTHER: {"test_other"}}, unknown)


def test_transitive_importers_are_affected_and_nothing_else():
    assert affected_test_files(graph(), [LEAF], TESTS) == ({T_LEAF, T_MID}, None)
    assert affected_test_files(graph(), [MID], TESTS) == ({T_MID}, None)


def test_a_changed_or_new_test_file_is_affected():
    assert affected_test_files(graph(), [T_OTHER], TESTS) == ({T_OTHER}, None)
    new = ROOT + "/tests/test_new.py"
    assert affected_test_files(graph(), [MID], TESTS, [new]) == ({T_MID, new}, None)


def test_every_test_when_the_graph_cannot_tell():
    files, why = affected_test_files(graph(unknown={"app.mid"}), [LEAF], TESTS)
    assert files is None and "imported by name" in why
    files, why = affected_test_files(None, [LEAF], TESTS)
    assert files is None and "no import graph" in why


def test_every_test_after_a_conftest_change_or_a_data_file():
    files, why = affected_test_files(graph(), [ROOT + "/tests/conftest.py"], TESTS)
    assert files is None and "conftest.py changed" in why
    files, why = affected_test_files(graph(), [DATA], TESTS)
    assert files is None and "not a module" in why
