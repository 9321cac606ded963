"""The option vocabulary on the Python side; validation lives in the core.

:class:`Options` (``pyfresh._core.Options``) is the one options object the
engine consumes. It is built once, by the core:

* from typed Python arguments, handed over as they are:
  ``Options(packages=["mysite"], poll_interval=0.1, debug=True)``
  (``spelling="command-line"`` when they came from ``--packages`` ...);
* from a host's text: ``Options.from_pairs(pairs, spelling="uwsgi")`` for
  (name, value[, display_name]) pairs, ``Options.from_serialized(text)``
  for mod_pyfresh's ``PYFRESH_CONFIG``.

Its read-only attributes are the typed values (None when unset), and
``origin_of("watch")`` names an option as the user spelt it
("pyfresh-watch", "PyFreshWatch", "watch=", "--watch"), for messages.
"""

from . import _core

ConfigError = _core.ConfigError
Options = _core.Options


def parse_config(pairs):
    """Validates (name, value[, display_name]) text pairs with the core.

    Returns a dict with the keys enabled, app, packages, exclude, debug,
    poll_interval, watch, restart_on, watch_ignore, drain_timeout,
    integrations, live_reload, reload_scope for the options given. Raises
    ConfigError naming the option and the bad value."""
    return Options.from_pairs(pairs).as_dict()


def serialize_config(pairs):
    """The validated options as the text the hosts carry per request."""
    return Options.from_pairs(pairs).serialize()


def parse_serialized_config(text):
    return Options.from_serialized(text, spelling="core").as_dict()
