"""A pytest loop in one warm process: save, and the tests run again.

    python3 -m pyfresh.test [--packages P ...] [--exclude M ...] [--affected-only] [-- pytest arguments]
    pytest --reload-loop [pytest arguments]

The tests run once; then each save of a tracked file (the packages'
modules, the test files and conftest.py files, --watch paths) is reloaded
by the engine (the same Reloader, import tracker and change detector as the
servers) and the tests run again in the same process: the tests affected by
the save first (test modules that import a changed module, directly or
transitively), then, when they pass, the rest. See loop.py.

The pytest plugin itself is the top-level module ``pytest_pyfresh`` (pytest
imports it in every session; it must not import the engine).
"""
