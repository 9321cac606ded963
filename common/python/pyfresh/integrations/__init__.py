"""Framework integrations: what a reload must reset outside your packages.

Clearing your modules is not enough when a framework keeps objects built
from the old code in its own modules (a URL resolver cache, a template
cache, a model registry, a default app). An integration resets those inside
the reload itself, at three points:

* ``before(ctx)``: the old code is still loaded, nothing cleared yet. Take
  the old objects out of the framework's registries (and keep them in
  ``ctx.state`` for ``undo``).
* ``before_import(ctx)``: your modules are cleared, the app is not imported
  yet. Import what the framework imports at start-up before the app (Django's
  models and admin modules).
* ``after(ctx)``: the new app was imported, before any request reaches it.
  Reset caches.
  An exception from ``before_import`` or ``after`` fails the reload like an
  exception in the app's import: the old modules are put back and every
  integration's ``undo`` runs.
  A reset that may fail without making the new code wrong belongs in
  ``ctx.attempt(...)``, which logs the failure and goes on.
* ``undo(ctx)``: the reload failed (or this integration's own ``before``
  raised): put back what ``before`` took, so the old code, now back in
  ``sys.modules``, finds its registries as they were.

and, in the ``dependents`` reload scope (see reloader.py), two questions
asked before each reload:

* ``scope(ctx, names)``: `names` is the set of modules the reload would
  clear (``ctx.covers`` answers for them). Add to it in place the modules
  the framework needs re-imported with them (Django's root URL conf), or
  return a short reason to clear every module of the packages instead
  (Django's models or admin changed; Bottle's default app).
* ``accounted_for(ctx)``: module names the framework imports by name, with
  no module of the packages on the stack, and whose importer the
  integration accounts for (Django's ``ROOT_URLCONF``, re-imported on the
  next request once the URL caches are cleared): the import graph does not
  count them as modules of unknown importers.

and two questions asked at start-up and after each reload:

* ``watch_paths(ctx)``: non-Python files whose change reloads the app
  (template folders), merged into the ``watch`` set;
* ``restart_paths(ctx)``: files whose change needs a new process (Django's
  settings), merged into the ``restart-on`` set.

An integration is on when ``detect()`` says its framework is in use (it is
imported: integrations never import a framework themselves); the first time,
the log says so, and what it resets. The ``integrations`` option (``on``,
``off`` or a list of names) chooses among them; every registered integration
is on by default.

Writing your own: a registry that lives in a kept module
(``exclude myproject.registry``) and that the reloaded plugin modules fill
when they are imported::

    import sys
    from pyfresh import integrations

    class Plugins(integrations.Integration):
        name = "plugins"
        resets = "the plugin registry's entries made by reloaded modules"

        def detect(self):
            return "myproject.registry" in sys.modules

        def before(self, ctx):
            registry = sys.modules["myproject.registry"].PLUGINS
            ctx.state["taken"] = {key: plugin for key, plugin in registry.items()
                                  if ctx.covers(plugin.__module__)}
            for key in ctx.state["taken"]:
                del registry[key]           # the new modules register theirs

        def undo(self, ctx):                # failed reload: the old code is back
            sys.modules["myproject.registry"].PLUGINS.update(ctx.state.get("taken", {}))

    integrations.register(Plugins())

or, with plain functions::

    integrations.register(integrations.Integration.of(
        "registry", detect=lambda: True, before=lambda ctx: REGISTRY.clear(),
        resets="the plugin registry"))

Integrations run in the order they were registered; the built-in ones
(``django``, ``flask``, ``bottle``) first.
"""

import importlib
import sys
import threading

from ..log import logger

__all__ = ["Context", "Integration", "Session", "names", "register", "unregister"]


class Integration:
    """Base class of an integration. Subclasses set ``name`` and ``resets``
    (logged when it turns on) and override what they need; every method has
    a do-nothing default."""

    name = None
    resets = ""

    def detect(self):
        """True when the framework is in use (imported). Asked at start-up
        and before each reload until it says yes."""
        return False

    def description(self, ctx):
        """The text logged when the integration turns on; ``resets`` by default."""
        return self.resets

    def before(self, ctx):
        pass

    def before_import(self, ctx):
        pass

    def after(self, ctx):
        pass

    def undo(self, ctx):
        pass

    def watch_paths(self, ctx):
        return ()

    def restart_paths(self, ctx):
        return ()

    def scope(self, ctx, names):
        """Dependents scope: add modules to `names`, or return why the whole
        package scope is needed (None: fine as it is)."""
        return None

    def accounted_for(self, ctx):
        return ()

    @classmethod
    def of(cls, name, detect, before=None, after=None, undo=None, watch_paths=None,
           restart_paths=None, resets="", before_import=None, scope=None, accounted_for=None):
        """An integration made of functions (each optional but ``detect``)."""
        integration = cls()
        integration.name = name
        integration.resets = resets
        integration.detect = detect
        for attribute, fn in (("before", before), ("before_import", before_import), ("after", after),
                              ("undo", undo), ("scope", scope), ("accounted_for", accounted_for),
                              ("watch_paths", watch_paths), ("restart_paths", restart_paths)):
            if fn is not None:
                setattr(integration, attribute, fn)
        return integration

    def __repr__(self):
        return "<pyfresh integration %s>" % self.name


class Context:
    """What an integration sees of one reload (or of start-up, for the path
    questions). One per integration and reload: ``state`` is where
    ``before`` leaves what ``after`` and ``undo`` need.

    covers(name)    True for a module name the reload clears and re-imports
                    (in the dependents scope: the modules of this reload only)
    in_packages(name) True for a module under the packages (cleared or not)
    excluded(name)  True for a module kept across reloads (an ``exclude``)
    app             the WSGI callable: the old one in ``before``, the new one in ``after``
    changed         the changed files that caused this reload (empty at start-up)
    state           a dict, empty at ``before``
    """

    def __init__(self, policy, app, changed=()):
        self._policy = policy
        self.app = app
        self.changed = tuple(changed)
        self.state = {}

    def covers(self, name):
        return self._policy.covers(name)

    def excluded(self, name):
        return self._policy.is_excluded(name)

    def in_packages(self, name):
        in_packages = getattr(self._policy, "in_packages", None)
        return in_packages(name) if in_packages is not None else self._policy.covers(name)

    def modules(self, kept_too=False):
        """(name, module) of the loaded modules the reload clears, and with
        ``kept_too`` the excluded ones as well."""
        # The policy's own methods: this runs over every loaded module, a
        # few times per reload (a wrapper call each costs ~0.1 ms at 1,300).
        covers = self._policy.covers
        excluded = self._policy.is_excluded
        return [(n, m) for n, m in list(sys.modules.items())
                if m is not None and (covers(n) or (kept_too and excluded(n)))]

    def attempt(self, what, fn, *args):
        """Runs fn(*args); a failure is logged (naming `what`) and the reload
        goes on. True when it succeeded."""
        try:
            fn(*args)
            return True
        except Exception:
            logger.error("integration step failed: %s; going on", what, exc_info=True)
            return False


_lock = threading.Lock()
_registry = []  # [Integration], in registration order


def register(integration):
    """Adds an integration (replacing one of the same name). Returns it."""
    if not isinstance(integration, Integration):
        raise TypeError("register() takes an Integration (see Integration.of), not %s"
                        % type(integration).__name__)
    if not integration.name or not isinstance(integration.name, str):
        raise ValueError("an integration needs a name")
    with _lock:
        _registry[:] = [i for i in _registry if i.name != integration.name] + [integration]
    return integration


def unregister(name):
    """Removes the integration called `name`; True if there was one."""
    with _lock:
        kept = [i for i in _registry if i.name != name]
        found = len(kept) != len(_registry)
        _registry[:] = kept
        return found


def names():
    with _lock:
        return [i.name for i in _registry]


def _registered():
    with _lock:
        return list(_registry)


class Session:
    """One Reloader's integrations: which are on, and the reload in progress.

    ``selection``: the ``integrations`` option as the core gives it: None
    (not set) or a list containing "all": every registered integration; an
    empty list: none; else the names to use. True and False work too."""

    def __init__(self, selection=None):
        if selection is None or selection is True:
            self._wanted = None
        elif selection is False:
            self._wanted = ()
        else:
            chosen = tuple(selection)
            self._wanted = None if "all" in chosen else chosen
        self._on = []            # integrations turned on, in order
        self._running = []       # [(integration, ctx)] of the reload in progress
        if self._wanted:
            unknown = [n for n in self._wanted if n not in names()]
            if unknown:
                logger.warning("integrations: no integration named %s (registered: %s); register it "
                               "before the Reloader is built", ", ".join(unknown), ", ".join(names()))

    def _chosen(self, integration):
        return self._wanted is None or integration.name in self._wanted

    def active(self):
        return [i.name for i in self._on]

    def detect(self, policy, app):
        """Turns on the chosen integrations whose framework is now in use."""
        for integration in _registered():
            if integration in self._on or not self._chosen(integration):
                continue
            try:
                found = integration.detect()
            except Exception:
                logger.error("integration %s: detect() failed; it stays off", integration.name,
                             exc_info=True)
                found = False
            if not found:
                continue
            self._on.append(integration)
            try:
                text = integration.description(Context(policy, app))
            except Exception:
                text = integration.resets
            logger.info("%s integration on%s", _title(integration.name), ": " + text if text else "")

    def paths(self, policy, app):
        """(watch entries, restart-on entries) the integrations that are on add."""
        watch, restart_on = [], []
        for integration in list(self._on):
            ctx = Context(policy, app)
            for method, into in ((integration.watch_paths, watch), (integration.restart_paths, restart_on)):
                try:
                    into.extend(p for p in (method(ctx) or ()) if p not in into)
                except Exception:
                    logger.error("integration %s: %s() failed", integration.name, method.__name__,
                                 exc_info=True)
        return watch, restart_on

    # -- the dependents scope -----------------------------------------------------

    def accounted_for(self, policy, app):
        """Module names whose importer an integration that is on accounts for."""
        names = set()
        for integration in list(self._on):
            try:
                names.update(integration.accounted_for(Context(policy, app)) or ())
            except Exception:
                logger.error("integration %s: accounted_for() failed", integration.name, exc_info=True)
        return names

    def scope(self, policy, app, changed, names):
        """Lets each integration that is on add to `names` (in place);
        returns the first reason given for the whole package scope, or None.
        A failing integration asks for the whole scope."""
        self.detect(policy, app)
        for integration in list(self._on):
            try:
                why = integration.scope(Context(policy, app, changed), names)
            except Exception:
                logger.error("integration %s: scope() failed", integration.name, exc_info=True)
                why = "the %s integration failed to tell" % integration.name
            if why:
                return "%s: %s" % (_title(integration.name), why)
        return None

    # -- one reload ------------------------------------------------------------

    def before(self, policy, app, changed=()):
        """Old code still loaded: each integration that is on takes what it must."""
        self.detect(policy, app)
        self._running = []
        for integration in list(self._on):
            ctx = Context(policy, app, changed)
            try:
                integration.before(ctx)
            except Exception:
                logger.error("integration %s: before-reload step failed; putting back what it took "
                             "and reloading without it", integration.name, exc_info=True)
                _undo_one(integration, ctx)
                continue
            self._running.append((integration, ctx))

    def before_import(self):
        """Modules cleared, the app not imported yet. Raises what an
        integration's before_import raises (the Reloader then undoes the reload)."""
        for integration, ctx in self._running:
            integration.before_import(ctx)

    def after(self, app):
        """The new app is imported. Raises what an integration's after raises
        (the Reloader then undoes the reload)."""
        for integration, ctx in self._running:
            ctx.app = app
            integration.after(ctx)

    def undo(self):
        """The reload failed: every integration that ran puts back, last first."""
        running, self._running = self._running, []
        for integration, ctx in reversed(running):
            _undo_one(integration, ctx)

    def done(self):
        self._running = []


def _undo_one(integration, ctx):
    try:
        integration.undo(ctx)
    except Exception:
        logger.error("integration %s: undo failed", integration.name, exc_info=True)


def _title(name):
    return {"django": "Django", "flask": "Flask", "bottle": "Bottle"}.get(name, name)


def _register_builtins():
    for name in ("django", "flask", "bottle"):
        module = importlib.import_module("%s.%s" % (__name__, name))
        register(module.integration)


_register_builtins()
