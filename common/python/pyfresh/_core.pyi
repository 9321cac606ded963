"""pyfresh._core: the CPython binding of the reload core (common/python/binding/).

Types and functions the engine uses; the implementation is C++ (PEP 489
multi-phase init, so it imports in every sub-interpreter).
"""

import os
from typing import Any, Callable, Iterable, Iterator, Literal, Optional, Union

__version__: str

_Path = Union[str, bytes, os.PathLike]
_Paths = Union[_Path, Iterable[_Path]]
_Names = Union[str, Iterable[str]]
_WsgiApp = Callable[..., Iterable[bytes]]

class ConfigError(ValueError):
    """An invalid option value; the message names the option and the value."""

# Options: the typed options object (built from host text or validated from
# Python arguments) is added here by the configuration work of issue 12
# (binding/options.cc); its stub belongs beside these.

# --- configuration functions (core_module.cc) ---------------------------------

def parse_config(pairs: Iterable[Union[tuple[str, str], tuple[str, str, str]]]) -> dict[str, Any]:
    """Validate (name, value[, display_name]) option pairs; the dict holds the options given."""

def serialize_config(pairs: Iterable[Union[tuple[str, str], tuple[str, str, str]]]) -> str:
    """Validated options as 'name=value' lines."""

def parse_serialized_config(text: str) -> dict[str, Any]: ...
def parse_app_spec(text: str) -> tuple[Literal["module", "file"], str, str]:
    """(kind, target, callable)."""

def validate_module_name(name: str) -> None:
    """Raise ConfigError unless the name is a dotted identifier."""

def check_scope(packages: _Names, exclude: _Names, app_module: str, packages_label: str,
                exclude_label: str) -> None:
    """Raise ConfigError when an exclusion covers the app's module or every package."""

# --- module functions (binding/module.cc) --------------------------------------

def fork_generation() -> int:
    """How many fork()s this process descends from (for tests)."""

def find_module_globals(modules: dict[str, Any], types: tuple[type, ...], objects: tuple[Any, ...]
                        ) -> tuple[list[tuple[str, dict[str, Any], str, Any]], list[tuple[str, Any]]]:
    """(found, others): found lists (module name, namespace, key, value) for each global whose
    value is one of `objects` or whose type derives from one of `types`, read without referencing
    the others; others lists (name, object) of the entries that are neither modules nor None."""

# --- types -------------------------------------------------------------------------

class PackagePolicy:
    """Which modules a reload clears."""
    def __init__(self, packages: _Names, exclude: _Names = ...) -> None: ...
    def covers(self, name: str) -> bool: ...
    def is_excluded(self, name: str) -> bool: ...
    @property
    def packages(self) -> list[str]: ...
    @property
    def exclude(self) -> list[str]: ...

class Detector:
    """Tells when tracked files are stale. `log` receives the core's lines as
    (level, message), level a `logging` level (INFO, WARNING, ERROR)."""
    def __init__(self, poll_interval: Optional[float] = None,
                 log: Optional[Callable[[int, str], object]] = None) -> None: ...
    def track(self, paths: _Paths) -> None: ...
    def retain_only(self, paths: _Paths) -> None: ...
    def accept_seen(self, paths: _Paths) -> None: ...
    def unsettled(self, paths: _Paths) -> list[str]: ...
    def check(self) -> bool: ...
    def request_check(self) -> bool: ...
    def wait(self, timeout: float) -> bool: ...
    def stale_paths(self) -> list[str]: ...
    @property
    def method(self) -> Literal["not started", "inotify", "polling"]: ...
    @property
    def tracked_count(self) -> int: ...
    @property
    def watched_directory_count(self) -> int: ...
    @property
    def polled_count(self) -> int: ...

class Gate:
    """The per-request path of a Reloader: check, gate, call, track the
    response. Subclassable (pyfresh.Reloader)."""
    app: _WsgiApp
    detector: Optional[Detector]
    # on_stale(gate): called by a request that finds a tracked file stale,
    # before it enters; None: requests keep the current app.
    on_stale: Optional[Callable[["Gate"], object]]
    enabled: bool
    @property
    def in_flight(self) -> int: ...
    @property
    def reloading(self) -> bool: ...
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]: ...
    def begin_reload(self, drain_timeout: float = ...) -> tuple[bool, bool]:
        """(owner, drained): wait (GIL released) until no request is in flight."""
    def end_reload(self) -> None: ...

class Response:
    """A streaming WSGI response that counts as in flight until closed (made by Gate)."""
    def __iter__(self) -> Iterator[bytes]: ...
    def __next__(self) -> bytes: ...
    def close(self) -> None: ...

class FileWrapper:
    """The server's wsgi.file_wrapper, given a FileResponse for the app's file (made by Gate)."""
    def __call__(self, filelike: Any, *rest: Any, **kwargs: Any) -> Any: ...

class FileResponse:
    """The app's file as given to the server's file_wrapper; in flight until
    closed. Every other attribute is the file's."""
    def close(self) -> None: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __getattr__(self, name: str) -> Any: ...
