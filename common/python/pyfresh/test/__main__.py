"""python3 -m pyfresh.test [options] [-- pytest arguments]

Runs pytest in this process, then again after every save of a tracked file
(the packages' modules, the test files and conftest.py files, --watch
paths): the tests affected by the save first, then, when they pass, the
rest. Ctrl-C ends it with the last round's exit status."""

import argparse
import sys



def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    pytest_args = []
    if "--" in argv:
        at = argv.index("--")
        argv, pytest_args = argv[:at], argv[at + 1:]
    try:
        # The option table, shared with the pytest plugin (which imports pytest).
        from pytest_pyfresh import OPTIONS, loop_keywords
    except ImportError as error:
        if getattr(error, "name", None) not in ("pytest", "_pytest"):
            raise
        sys.exit("python3 -m pyfresh.test: pytest is not installed (Debian: apt install python3-pytest)")
    parser = argparse.ArgumentParser(prog="python3 -m pyfresh.test", description=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, keywords in OPTIONS:
        parser.add_argument("--" + name, dest=name.replace("-", "_"), **keywords)
    parser.add_argument("--rootdir", default=None,
                        help="the directory relative --watch paths are resolved against (default: .)")
    args = parser.parse_args(argv)

    from .loop import TestLoop

    loop = TestLoop(pytest_args, rootdir=args.rootdir, **loop_keywords(args))
    return loop.run()


if __name__ == "__main__":
    sys.exit(main())
