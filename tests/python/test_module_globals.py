"""pyfresh._core.find_module_globals: the search of every module's globals
that the Django integration runs on each reload (signals; module globals
holding a reloaded model class). It must find what a Python loop would and,
in a process forked from one that imported the app (uWSGI's preforking),
write nothing to the objects it passes over: each reference count a Python
loop writes copies a page still shared with the parent (docs/benchmarks.md,
Django project: the first reload of each uWSGI worker)."""

import os
import resource
import sys
import types

import pytest

from pyfresh import _core


class Marker:
    pass


class SubMarker(Marker):
    pass


class LyingProxy:
    """Claims to be a Marker through __class__, as lazy proxies do; looking
    at __class__ would run code."""

    looked = False

    @property
    def __class__(self):
        LyingProxy.looked = True
        return Marker


def _modules(**namespaces):
    modules = {}
    for name, values in namespaces.items():
        module = types.ModuleType(name)
        module.__dict__.update(values)
        modules[name] = module
    return modules


def test_finds_values_by_type_and_by_identity_with_their_module_and_key():
    wanted, sub, other, chosen = Marker(), SubMarker(), object(), object()
    modules = _modules(first={"a": wanted, "b": other, "c": chosen}, second={"d": sub, "e": 3})
    found, others = _core.find_module_globals(modules, (Marker,), (chosen,))
    assert others == []
    assert sorted((name, key) for name, _ns, key, _value in found) == [("first", "a"), ("first", "c"),
                                                                      ("second", "d")]
    for name, namespace, key, value in found:
        assert namespace is modules[name].__dict__ and namespace[key] is value


def test_checks_the_real_type_never_class():
    modules = _modules(lazy={"proxy": LyingProxy()})
    found, _others = _core.find_module_globals(modules, (Marker,), ())
    assert found == [] and not LyingProxy.looked


def test_entries_that_are_not_modules_are_handed_back_and_none_is_skipped():
    stand_in = types.SimpleNamespace(x=Marker())
    modules = dict(_modules(real={"y": 1}), fake=stand_in, gone=None)
    found, others = _core.find_module_globals(modules, (Marker,), ())
    assert found == [] and others == [("fake", stand_in)]


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError):
        _core.find_module_globals([], (), ())
    with pytest.raises(TypeError):
        _core.find_module_globals({}, [Marker], ())


def _page_copies_in_a_child(search):
    """Minor page faults in a forked child while it runs search()."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            search()
            after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            os.write(write_end, str(after - before).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as reader:
        text = reader.read()
    os.waitpid(pid, 0)
    return int(text)


def test_a_forked_child_copies_no_page_of_the_globals_it_passes_over():
    """40,000 globals spread over 4,000 modules, inherited by a child: a
    Python loop over them copies hundreds of pages, the search a few (its
    own result and stack)."""
    modules = _modules(**{"many_%d" % i: {"value_%d" % j: [j] for j in range(10)} for i in range(4000)})
    wanted = Marker()
    modules["many_0"].wanted = wanted

    def python_loop():
        for module in list(modules.values()):
            for value in list(vars(module).values()):
                issubclass(type(value), Marker)

    def search():
        found, _others = _core.find_module_globals(modules, (Marker,), ())
        assert [entry[3] for entry in found] == [wanted]

    loop_copies = _page_copies_in_a_child(python_loop)
    search_copies = _page_copies_in_a_child(search)
    assert loop_copies > 200, "the baseline should copy pages (%d)" % loop_copies
    assert search_copies * 10 < loop_copies, (search_copies, loop_copies)
    assert sys.modules is not modules  # the search used the dict it was given
