"""pyfresh: serve every request with the Python code as it is on disk.

    from pyfresh import Reloader
    application = Reloader("mysite.wsgi:application", packages=["mysite", "blog"],
                           exclude=["mysite.settings"], debug=True)
"""

from ._core import ConfigError
from .app_loader import AppLoadError
from .config import parse_config, parse_serialized_config, serialize_config
from .reloader import Reloader

__all__ = [
    "AppLoadError",
    "ConfigError",
    "Reloader",
    "parse_config",
    "parse_serialized_config",
    "serialize_config",
]
__version__ = "0.1.0"
