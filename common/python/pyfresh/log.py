"""The `pyfresh` logger, and a default route to the host's log."""

import logging
import sys

logger = logging.getLogger("pyfresh")


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is emitted: mod_wsgi
    and uWSGI route it to the server's error log, per interpreter."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def ensure_handler():
    """Without any logging configured, INFO records would be dropped; give
    the pyfresh logger a stderr handler then. Configured logging wins."""
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = _CurrentStderrHandler()
    handler.setFormatter(logging.Formatter("pyfresh: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def log_core_message(level, message):
    """Log sink for the C++ core's messages (method in use, fallbacks): the
    core gives each its logging level."""
    if message.startswith("pyfresh: "):
        message = message[len("pyfresh: "):]
    logger.log(level, "%s", message)
