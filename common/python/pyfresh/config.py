"""The option vocabulary on the Python side; validation lives in the core."""

import os

from . import _core

ConfigError = _core.ConfigError

_KEYWORD_TO_OPTION = {
    "enabled": "enabled",
    "app": "app",
    "packages": "packages",
    "exclude": "exclude",
    "debug": "debug",
    "poll_interval": "poll-interval",
    "watch": "watch",
    "restart_on": "restart-on",
    "watch_ignore": "watch-ignore",
    "drain_timeout": "drain-timeout",
    "integrations": "integrations",
    "live_reload": "live-reload",
    "reload_scope": "reload-scope",
}
_PATH_KEYWORDS = ("watch", "restart_on", "watch_ignore")  # one path (or pattern) per element


def parse_config(pairs):
    """Validates (name, value[, display_name]) text pairs with the core.

    Returns a dict with the keys enabled, app, packages, exclude, debug,
    poll_interval, watch, restart_on, watch_ignore, drain_timeout, integrations, live_reload,
    reload_scope for the options given. Raises
    ConfigError naming the option and the bad value."""
    return _core.parse_config(list(pairs))


def serialize_config(pairs):
    """The validated options as the text the hosts carry per request."""
    return _core.serialize_config(list(pairs))


def parse_serialized_config(text):
    return _core.parse_serialized_config(text)


def keyword_pairs(**keywords):
    """(name, value) text pairs for Python keyword arguments, so that values
    given in Python are validated by the same code as host options."""
    pairs = []
    for keyword, value in keywords.items():
        if value is None:
            continue
        option = _KEYWORD_TO_OPTION[keyword]
        display = keyword + "="
        if keyword in _PATH_KEYWORDS:
            # One path per element (a str or os.PathLike is one path), never split.
            items = [value] if isinstance(value, (str, bytes, os.PathLike)) else list(value)
            for item in items:
                try:
                    path = os.fsdecode(item)
                except TypeError:
                    raise TypeError("%s must be paths (str or os.PathLike), not %s"
                                    % (keyword, type(item).__name__)) from None
                pairs.append((option, path, display))
            continue
        if isinstance(value, bool):
            text = "on" if value else "off"
        elif isinstance(value, (int, float)) and keyword in ("poll_interval", "drain_timeout"):
            text = repr(float(value))
        elif isinstance(value, str):
            text = value
        elif keyword == "integrations":
            names = list(value)
            if not all(isinstance(name, str) for name in names):
                raise TypeError("integrations must be names (str)")
            text = " ".join(names) or "off"
        elif keyword in ("packages", "exclude"):
            names = list(value)
            for name in names:
                if not isinstance(name, str):
                    raise TypeError("%s must be strings, not %s" % (keyword, type(name).__name__))
            if not names:
                continue
            # Each list element must be one name: "my app" must be reported,
            # not split into two valid names.
            for name in names:
                try:
                    _core.validate_module_name(name)
                except ConfigError as error:
                    raise ConfigError("%s %s" % (display, error)) from None
                pairs.append((option, name, display))
            continue
        else:
            raise TypeError("%s has an unsupported type %s" % (keyword, type(value).__name__))
        pairs.append((option, text, display))
    return pairs
