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

# --- options (binding/options.cc) ------------------------------------------------

_Spelling = Literal["core", "python", "command-line", "uwsgi", "apache"]
_Pairs = Iterable[Union[tuple[str, str], tuple[str, str, str]]]

class Options:
    """pyfresh's options, built once by the core: from typed Python values
    (this constructor; a str is parsed as a host's text) or from a host's
    text (from_pairs, from_serialized). Read-only; each option's spelling in
    messages is kept (origin_of). Attributes are None when unset."""

    def __init__(self, *, spelling: _Spelling = "python", app: Optional[str] = None,
                 packages: Optional[_Names] = None, exclude: Optional[_Names] = None,
                 debug: Union[bool, str, None] = None, enabled: Union[bool, str, None] = None,
                 poll_interval: Union[float, str, None] = None, drain_timeout: Union[float, str, None] = None,
                 watch: Optional[_Paths] = None, restart_on: Optional[_Paths] = None,
                 watch_ignore: Optional[_Paths] = None, integrations: Union[bool, _Names, None] = None,
                 live_reload: Union[bool, str, None] = None,
                 reload_scope: Optional[Literal["packages", "dependents"]] = None) -> None: ...
    @classmethod
    def from_pairs(cls, pairs: _Pairs, spelling: _Spelling = "core") -> "Options":
        """(name, value[, display_name]) text as a host read it."""
    @classmethod
    def from_serialized(cls, text: str, spelling: _Spelling = "apache") -> "Options":
        """mod_pyfresh's PYFRESH_CONFIG text."""
    def origin_of(self, name: str) -> str:
        """'pyfresh-watch', 'PyFreshWatch', 'watch=' or '--watch': as the option came."""
    def as_dict(self) -> dict[str, Any]: ...
    def serialize(self) -> str: ...
    def merged(self, child: "Options") -> "Options":
        """The child's options where set, else these (the core's merge)."""
    def check_scope(self, app_module: str) -> None:
        """Raise ConfigError when an exclusion covers the app's module or every package."""
    enabled: Optional[bool]
    app: Optional[str]
    packages: Optional[list[str]]
    exclude: Optional[list[str]]
    debug: Optional[bool]
    poll_interval: Optional[float]
    watch: Optional[list[str]]
    restart_on: Optional[list[str]]
    watch_ignore: Optional[list[str]]
    drain_timeout: Optional[float]
    integrations: Optional[list[str]]
    live_reload: Optional[bool]
    reload_scope: Optional[Literal["packages", "dependents"]]

def parse_app_spec(text: str) -> tuple[Literal["module", "file"], str, str]:
    """(kind, target, callable)."""

def validate_module_name(name: str) -> None:
    """Raise ConfigError unless the name is a dotted identifier."""

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
