"""pyfresh: serve every request with the Python code as it is on disk.

    from pyfresh import Reloader
    application = Reloader("mysite.wsgi:application", packages=["mysite", "blog"],
                           exclude=["mysite.settings"], debug=True)

Without ``packages`` the app's own code is inferred from what it imports.
Hooks: ``pyfresh.before_reload(fn)`` / ``pyfresh.after_reload(fn)``;
counters: ``pyfresh.stats()``.
"""

from ._core import ConfigError
from ._core import __version__  # the one version number, set in CMakeLists.txt
from .app_loader import AppLoadError
from .config import Options, parse_config, parse_serialized_config, serialize_config
from .counters import stats
from .hooks import after_reload, before_reload, currently_reloading, previous_module, remove_hook
from .reloader import Reloader

__all__ = [
    "AppLoadError",
    "ConfigError",
    "Options",
    "Reloader",
    "after_reload",
    "before_reload",
    "currently_reloading",
    "parse_config",
    "parse_serialized_config",
    "previous_module",
    "remove_hook",
    "serialize_config",
    "stats",
]
