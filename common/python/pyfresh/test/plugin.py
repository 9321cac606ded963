"""``pytest --reload-loop``: the test loop as a pytest plugin (entry point
``pytest11``, registered by pyfresh's dist-info). Without --reload-loop it
only adds its options; pyfresh's engine is not even imported."""

import pytest

from .options import OPTIONS

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
    from .loop import TestLoop

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
    from .options import loop_keywords
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
