"""The loop's options, shared by ``python3 -m pyfresh.test`` and
``pytest --reload-loop`` (there prefixed: ``--reload-packages`` ...)."""

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
