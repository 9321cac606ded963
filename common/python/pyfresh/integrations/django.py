"""Django: what survives a reload in Django's own modules, and its reset.

* The URL resolver (``get_resolver`` is an lru_cache) keeps the old URL conf
  module, hence old views, forms and models: ``clear_url_caches()``.
* Template engines (``engines._engines``, ``Engine.get_default``) keep the old
  template-tag libraries and, with DEBUG off, the cached loader's templates.
* The app registry: ``django.setup()`` never runs twice, so for the apps
  under the packages their models leave ``apps.all_models`` and every admin
  site's registry before the reload, and before the app is imported again
  ``<app>.models`` and ``<app>.admin`` are (as start-up does), the app config
  points at the new modules, and a reloaded AppConfig class's ``ready()``
  runs again. Re-registering without this warns "Model ... was already
  registered" and leaves the admin on the old classes. Another app's model
  registered with a reloaded ModelAdmin (a custom UserAdmin) keeps its entry
  until the re-imported module unregisters or registers it again.
* Module globals outside the packages holding a reloaded model class get the
  new class (django.contrib.auth's ``UserModel`` with a custom user model).
* Content types cache model lookups: cleared.
* Compiled translations (.mo) of LOCALE_PATHS and of the apps under the
  packages are watched; when one changed, the translation catalogs are
  reset as runserver does (``translation_file_changed``).
* Signal receivers defined in reloaded modules are disconnected before the
  reload (their modules connect the new ones again), so they do not pile
  up, and a ``dispatch_uid`` does not keep the old receiver.
* Settings are read once per process: the settings module's file is on the
  restart-on list (excluded or not).
"""

import contextlib
import importlib
import os
import sys
import weakref

from . import Integration


class DjangoIntegration(Integration):
    name = "django"
    resets = ("resets URL resolver caches, template engines, admin registry, app registry models "
              "for apps under the packages, content type caches, signal receivers of reloaded modules")

    def __init__(self):
        self._signals = weakref.WeakSet()
        self._scanned = set()

    def detect(self):
        conf = sys.modules.get("django.conf")
        return conf is not None and getattr(conf.settings, "configured", False)

    def description(self, ctx):
        settings = self.restart_paths(ctx)
        if settings:
            return "%s; a change to %s restarts the process" % (self.resets, ", ".join(settings))
        return self.resets

    # -- paths ---------------------------------------------------------------

    def watch_paths(self, ctx):
        """The template directories of every engine in settings.TEMPLATES
        (DIRS) and, with APP_DIRS, those of the apps under the packages: with
        DEBUG off Django's cached loader keeps templates until the engines
        are reset, and nothing else would see a template edit. Read from the
        settings: building the engines here would import template tags."""
        from django.apps import apps
        from django.conf import settings
        from django.utils.module_loading import import_string
        paths = []
        for entry in getattr(settings, "TEMPLATES", None) or ():
            paths.extend(os.fspath(d) for d in entry.get("DIRS") or ())
            if not entry.get("APP_DIRS") or not apps.ready:
                continue
            try:
                app_dirname = getattr(import_string(entry["BACKEND"]), "app_dirname", "templates")
            except (ImportError, KeyError):
                continue
            for config in apps.get_app_configs():
                if ctx.covers(config.name) and config.path:
                    paths.append(os.path.join(config.path, app_dirname))
        paths = [p for p in dict.fromkeys(paths) if os.path.isdir(p)]
        return paths + self._locale_patterns(ctx)

    @staticmethod
    def _locale_patterns(ctx):
        """Compiled translations (.mo) of LOCALE_PATHS and of the apps
        under the packages, as runserver's reloader watches them."""
        from django.apps import apps
        from django.conf import settings
        if not getattr(settings, "USE_I18N", False):
            return []
        directories = [os.fspath(p) for p in getattr(settings, "LOCALE_PATHS", ())]
        if apps.ready:
            directories.extend(os.path.join(c.path, "locale") for c in apps.get_app_configs()
                               if ctx.covers(c.name) and c.path)
        return [os.path.join(d, "**", "*.mo") for d in dict.fromkeys(directories) if os.path.isdir(d)]

    def restart_paths(self, ctx):
        from django.conf import settings
        name = getattr(settings, "SETTINGS_MODULE", None) or os.environ.get("DJANGO_SETTINGS_MODULE")
        if not name:
            return ()
        # A settings package (mysite/settings/{__init__,base,dev}.py): all of it.
        parent = name.rpartition(".")[0]
        family = [name]
        if parent and parent.rpartition(".")[2] == "settings":
            family.append(parent)
            family.extend(n for n in list(sys.modules) if n.startswith(parent + "."))
        paths = []
        for module_name in family:
            path = getattr(sys.modules.get(module_name), "__file__", None)
            if isinstance(path, str) and path not in paths:
                paths.append(path)
        return paths

    # -- the dependents scope ------------------------------------------------------

    def accounted_for(self, ctx):
        """The root URL conf: Django's resolver imports it by name during a
        request; clearing the URL caches (after every reload) is what makes
        Django import it again."""
        urlconf = self._root_urlconf()
        return (urlconf,) if urlconf else ()

    def scope(self, ctx, names):
        """The root URL conf is re-imported with every reload: its
        urlpatterns hold the URL conf modules ``include()`` imported (and
        through them the views). A reloaded app package, models, admin or
        app config module needs the app registry rebuilt for every app of
        the packages: the whole scope."""
        from django.apps import apps
        if apps.ready:
            for config in apps.get_app_configs():
                if not ctx.in_packages(config.name):
                    continue
                app_modules = (config.name, config.name + ".models", config.name + ".admin",
                               type(config).__module__)
                for name in names:
                    if name in app_modules or name.startswith(config.name + ".models."):
                        return "%s (app %s) is reloaded: the app registry needs every module" % (name, config.label)
        urlconf = self._root_urlconf()
        if urlconf and ctx.in_packages(urlconf) and urlconf in sys.modules:
            names.add(urlconf)
        return None

    @staticmethod
    def _root_urlconf():
        from django.conf import settings
        urlconf = getattr(settings, "ROOT_URLCONF", None)
        return urlconf if isinstance(urlconf, str) else None

    # -- one reload --------------------------------------------------------------

    def _reloaded_apps(self, ctx):
        from django.apps import apps
        if not apps.ready:
            return []
        return [config for config in apps.get_app_configs() if ctx.covers(config.name)]

    def before(self, ctx):
        from django.apps import apps
        configs = self._reloaded_apps(ctx)
        ctx.state["apps"] = [
            (config.label, config, config.module, config.models_module, dict(apps.all_models[config.label]))
            for config in configs]
        ctx.state["admin"], ctx.state["kept_admin"] = self._take_admin_entries(ctx)
        ctx.state["receivers"] = self._take_receivers(ctx)
        # Last, as it cannot fail half-way: the models leave the registry.
        for label, _config, _module, _models_module, _models in ctx.state["apps"]:
            apps.all_models[label].clear()  # the same dict as app_config.models
        if ctx.state["apps"]:
            apps.clear_cache()
        self._reset_caches(ctx)

    def before_import(self, ctx):
        from django.apps import AppConfig, apps
        from django.utils.module_loading import module_has_submodule
        # As django.setup() does before the app exists: the app packages and
        # their models (user code: an exception fails the reload), the app
        # configs, ready(), then the admin modules.
        replaced = []
        for label, config, _module, _models_module, _models in ctx.state.get("apps", ()):
            package = importlib.import_module(config.name)
            models_module = None
            if module_has_submodule(package, "models"):
                models_module = importlib.import_module(config.name + ".models")
            new_config = self._fresh_config(config, package)
            new_config.apps = apps
            new_config.models = apps.all_models[label]
            new_config.models_module = models_module
            replaced.append((label, new_config))
        for label, new_config in replaced:
            apps.app_configs[label] = new_config
        if replaced:
            apps.clear_cache()
        ctx.state["rebound"] = self._rebind_model_globals(ctx)
        # ready() of a reloaded AppConfig class: its imports (a signals
        # module) are as reloaded as the rest; receivers were disconnected.
        for label, new_config in replaced:
            cls = type(new_config)
            if ctx.covers(cls.__module__) and cls.ready is not AppConfig.ready:
                new_config.ready()
        if replaced and "django.contrib.admin" in sys.modules and apps.is_installed("django.contrib.admin"):
            with self._replacing_kept_entries(ctx.state.get("kept_admin", ())):
                for _label, new_config in replaced:
                    if module_has_submodule(new_config.module, "admin"):
                        importlib.import_module(new_config.name + ".admin")
        self._reset_caches(ctx)

    def after(self, ctx):
        self._reset_caches(ctx)
        if any(path.endswith(".mo") for path in ctx.changed):
            ctx.attempt("django: reset translation catalogs", _reset_translations)

    def undo(self, ctx):
        from django.apps import apps
        for namespace, key, old in ctx.state.get("rebound", ()):
            namespace[key] = old
        for label, config, module, models_module, models in ctx.state.get("apps", ()):
            apps.all_models[label].clear()
            apps.all_models[label].update(models)
            config.module, config.models_module = module, models_module
            config.models = apps.all_models[label]
            apps.app_configs[label] = config
        if ctx.state.get("apps"):
            apps.clear_cache()
        self._put_back_admin_entries(ctx, ctx.state.get("admin", ()), ctx.state.get("kept_admin", ()))
        self._put_back_receivers(ctx, ctx.state.get("receivers", ()))
        self._reset_caches(ctx)

    @staticmethod
    def _rebind_model_globals(ctx):
        """Module globals outside the packages that hold a reloaded model
        class (``UserModel = get_user_model()`` in django.contrib.auth's
        backends, forms and views, for a custom user model) get the new class:
        otherwise request.user is an instance of the old class, and assigning
        it to a foreign key of a new model raises ValueError."""
        from django.apps import apps
        renamed = {}
        for label, _config, _module, _models_module, models in ctx.state.get("apps", ()):
            for model_name, old in models.items():
                new = apps.all_models[label].get(model_name)
                if new is not None and new is not old:
                    renamed[id(old)] = (old, new)
        rebound = []
        if not renamed:
            return rebound
        # Modules' globals are searched in C (see _module_globals).
        found, others = _module_globals(objects=tuple(old for old, _new in renamed.values()))
        holders = [(name, namespace, [(key, value)]) for name, namespace, key, value in found]
        for name, module in others:
            namespace = getattr(module, "__dict__", None)
            if isinstance(namespace, dict):
                holders.append((name, namespace, list(namespace.items())))
        for name, namespace, items in holders:
            if ctx.covers(name):
                continue
            for key, value in items:
                pair = renamed.get(id(value))
                if pair is not None and pair[0] is value:
                    namespace[key] = pair[1]
                    rebound.append((namespace, key, value))
        return rebound

    @staticmethod
    def _fresh_config(config, package):
        """The app config as start-up would build it from the new code: a
        new instance of the (re-imported) class when its module is reloaded."""
        cls = type(config)
        module = sys.modules.get(cls.__module__)
        if module is None:
            try:
                module = importlib.import_module(cls.__module__)
            except ImportError:
                module = None
        new_cls = getattr(module, cls.__name__, None) if module is not None else None
        if isinstance(new_cls, type) and new_cls is not cls:
            fresh = new_cls(config.name, package)
            fresh.label = config.label  # the registry is keyed by it
            return fresh
        config.module = package
        return config

    # -- caches ----------------------------------------------------------------

    def _reset_caches(self, ctx):
        ctx.attempt("django: clear URL resolver caches", _clear_url_caches)
        ctx.attempt("django: reset template engines", _reset_template_engines)
        ctx.attempt("django: clear content type cache", _clear_content_types)

    # -- admin -------------------------------------------------------------------

    def _admin_sites(self):
        sites_module = sys.modules.get("django.contrib.admin.sites")
        return list(getattr(sites_module, "all_sites", ())) if sites_module else []

    def _take_admin_entries(self, ctx):
        """Takes out the entries of reloaded models. Entries of other apps'
        models with a ModelAdmin from a reloaded module (a custom UserAdmin
        after ``admin.site.unregister(User)``) stay, so that the re-imported
        module can unregister them again; they are returned apart."""
        taken, kept = [], []
        for site in self._admin_sites():
            registry = site._registry
            for model, model_admin in list(registry.items()):
                if ctx.covers(model.__module__):
                    taken.append((site, model, registry.pop(model)))
                elif ctx.covers(type(model_admin).__module__):
                    kept.append((site, model, model_admin))
        return taken, kept

    @contextlib.contextmanager
    def _replacing_kept_entries(self, kept):
        """While the admin modules are imported again, registering a model
        whose entry is still the previous generation's replaces that entry
        (Django would raise AlreadyRegistered)."""
        from django.db.models.base import ModelBase
        previous = {(id(site), model): model_admin for site, model, model_admin in kept}
        patched = []
        for site in {id(site): site for site, _model, _admin in kept}.values():
            original = site.register

            def register(model_or_iterable, admin_class=None, _site=site, _original=original, **options):
                models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else list(model_or_iterable)
                for model in models:
                    old = previous.get((id(_site), model))
                    if old is not None and _site._registry.get(model) is old:
                        del _site._registry[model]
                return _original(models, admin_class, **options)

            site.register = register
            patched.append(site)
        try:
            yield
        finally:
            for site in patched:
                site.__dict__.pop("register", None)

    def _put_back_admin_entries(self, ctx, taken, kept):
        sites = self._admin_sites()
        for site in sites:
            for model, model_admin in list(site._registry.items()):
                if ctx.covers(model.__module__) or ctx.covers(type(model_admin).__module__):
                    site._registry.pop(model, None)
        for site, model, model_admin in list(taken) + list(kept):
            site._registry[model] = model_admin

    # -- signals -----------------------------------------------------------------

    def _find_signals(self, ctx):
        """Signal instances held by module globals outside the packages
        (Django's own and third-party ones); once found, kept."""
        dispatch = sys.modules.get("django.dispatch")
        if dispatch is None:
            return []
        signal_type = dispatch.Signal
        # Modules' globals are searched in C (see _module_globals); it checks
        # type(value), as below, never __class__ (a lazy proxy's would run code).
        found, others = _module_globals(types=(signal_type,))
        for name, _namespace, _key, value in found:
            if not ctx.in_packages(name):
                self._signals.add(value)
        for name, module in others:
            if name in self._scanned or ctx.in_packages(name):
                continue
            self._scanned.add(name)
            try:
                values = list(vars(module).values())
            except TypeError:
                continue
            for value in values:
                if issubclass(type(value), signal_type):
                    self._signals.add(value)
        return list(self._signals)

    def _take_receivers(self, ctx):
        taken = []
        for signal in self._find_signals(ctx):
            with signal.lock:
                kept, removed = [], []
                for entry in signal.receivers:
                    if _receiver_module_covered(entry[1], ctx):
                        removed.append(entry)
                    else:
                        kept.append(entry)
                if removed:
                    signal.receivers = kept
                    signal.sender_receivers_cache.clear()
                    taken.append((signal, removed))
        return taken

    def _put_back_receivers(self, ctx, taken):
        for signal in self._find_signals(ctx):
            with signal.lock:
                kept = [e for e in signal.receivers if not _receiver_module_covered(e[1], ctx)]
                if len(kept) != len(signal.receivers):
                    signal.receivers = kept
                    signal.sender_receivers_cache.clear()
        for signal, removed in taken:
            with signal.lock:
                signal.receivers = signal.receivers + removed
                signal.sender_receivers_cache.clear()


def _module_globals(types=(), objects=()):
    """The globals of the modules in sys.modules whose value is one of
    `objects` or whose type derives from one of `types`: (found, others), see
    pyfresh._core.find_module_globals. Searched in C because a Python loop
    references every value: in a worker forked from a master that imported
    the app (uWSGI without lazy-apps) each reference count written copies a
    page still shared with the master, which made that worker's first reload
    take 0.2-0.6 s instead of ~15 ms (docs/benchmarks.md, Django project)."""
    from .. import _core
    return _core.find_module_globals(sys.modules, tuple(types), tuple(objects))


def _receiver_module_covered(receiver, ctx):
    if isinstance(receiver, weakref.ReferenceType):
        receiver = receiver()
        if receiver is None:
            return False  # dead: Django drops it itself
    function = getattr(receiver, "__func__", receiver)
    module = getattr(function, "__module__", None)
    if module is None:
        module = getattr(type(receiver), "__module__", None)
    return isinstance(module, str) and ctx.covers(module)


def _reset_translations():
    from pathlib import Path
    from django.utils.translation.reloader import translation_file_changed
    translation_file_changed(None, Path("changed.mo"))  # what runserver's reloader does


def _clear_url_caches():
    from django.urls import clear_url_caches
    clear_url_caches()


def _reset_template_engines():
    from django.template import engines
    from django.template.engine import Engine
    engines._engines = {}
    Engine.get_default.cache_clear()


def _clear_content_types():
    from django.apps import apps
    if not apps.ready or not apps.is_installed("django.contrib.contenttypes"):
        return
    from django.contrib.contenttypes.models import ContentType
    ContentType.objects.clear_cache()


integration = DjangoIntegration()
