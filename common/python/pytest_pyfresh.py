"""``pytest --reload-loop``: pyfresh's test loop (``pyfresh.test``) as a
pytest plugin, registered through the ``pytest11`` entry point of pyfresh's
dist-info, and the loop's option table, shared with ``python3 -m
pyfresh.test``.

A top-level module, not part of the ``pyfresh`` package: pytest imports
every registered plugin in every session, and importing anything under
``pyfresh`` imports the engine (about 40 ms here). Without --reload-loop
this only adds the options."""

import pytest

# (name, argparse keywords); the CLI spells them --NAME, pytest --reload-NAME
# (but --affected-only, which pytest takes as it is).
OPTIONS = [
    ("packages", dict(nargs="+", action="extend", default=None, metavar="P",
                      help="packages to reload (default: inferred from what the tests import, "
                           "test modules included)")),
    ("exclude", dict(nargs="+", action="extend", default=None, metavar="M",
                     help="modules kept across reloads (their edits trigger nothing)")),
    ("watch", dict(nargs="+", action="extend", default=None, metavar="PATH",
                   help="files, directories or glob patterns whose change runs the tests again")),
    ("poll-interval", dict(type=float, default=None, metavar="SECONDS",
                           help="force stat polling instead of inotify")),
    ("reload-scope", dict(default=None, choices=("packages", "dependents"),
                          help="what a save clears: every module of the packages (default) or the "
                               "changed modules and their importers")),
    ("affected-only", dict(action="store_true", default=False,
                           help="after a save, run only the tests affected by it")),
]


def loop_keywords(values):
    """TestLoop keyword arguments from parsed values (an argparse namespace
    or pytest's config.option), named by OPTIONS' dest names."""
    get = lambda name: getattr(values, name, None)
    return dict(packages=get("packages"), exclude=get("exclude"), watch=get("watch"),
                poll_interval=get("poll_interval"), reload_scope=get("reload_scope"),
                affected_only=bool(get("affected_only")))


# The loop's own arguments, removed before the rounds' sessions get the rest.
_FLAG = "--reload-loop"


def _pytest_name(name):
    return "--" + name if name == "affected-only" else "--reload-" + name.replace("reload-", "")


def pytest_addoption(parser):
    group = parser.getgroup("pyfresh", "pyfresh test loop")
    group.addoption(_FLAG, action="store_true", default=False, dest="reload_loop",
                    help="run the tests again in this process after every save (pyfresh)")
    for name, keywords in OPTIONS:
        keywords = dict(keywords)
        if keywords.get("action") == "extend":
            keywords["action"] = "append"  # pytest's parser: one value per option
            keywords.pop("nargs", None)
            keywords["help"] += "; one per option, repeated for more"

        group.addoption(_pytest_name(name), dest="reload_" + name.replace("-", "_").replace("reload_", ""),
                        **keywords)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    if not config.getoption("reload_loop"):
        return None
    from pyfresh.test.loop import TestLoop

    values = _Values(config)
    loop = TestLoop(_session_args(config), rootdir=str(config.rootpath), **_keywords(values))
    # The sessions of the rounds import the conftests and the code afresh,
    # through pyfresh's import tracker: what this (outer) session imported
    # before the loop existed is user code pyfresh never saw.
    loop.forget_modules_imported_before()
    return loop.run()


class _Values:
    def __init__(self, config):
        self.config = config

    def __getattr__(self, name):
        return self.config.getoption("reload_" + name.replace("reload_", ""), None)


def _keywords(values):
    return loop_keywords(values)


def _session_args(config):
    """The command line without the loop's own options."""
    args = list(config.invocation_params.args)
    takes_value = {_pytest_name(name) for name, keywords in OPTIONS if keywords.get("action") != "store_true"}
    flags = {_pytest_name(name) for name, keywords in OPTIONS if keywords.get("action") == "store_true"}
    flags.add(_FLAG)
    out = []
    skip_next = False
    for arg in args:
        if skip_next:
            skip_next = False
            continue
        option = arg.split("=", 1)[0]
        if option in flags:
            continue
        if option in takes_value:
            skip_next = "=" not in arg
            continue
        out.append(arg)
    return out
