"""What the test suites and the benchmarks share: real servers started on
loopback with their own state (uwsgi_harness, apache_harness), and the
sites they serve and edit (framework_sites, django_project,
never_stale_scenarios, live_sites).

tests/pytest.ini puts tests/support on sys.path for every pytest suite; a
benchmark puts it there itself (bench/*.py), so both import the same
modules the same way: ``from pyfresh_testsupport import apache_harness``.
The harnesses find the build tree through PYFRESH_BUILD_DIR.
"""
