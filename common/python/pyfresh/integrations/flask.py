"""Flask (and its Jinja environment).

* Template folders of every Flask app found in the reloaded (or excluded)
  modules and of their blueprints are watched: a template edit reloads the
  app, as a code edit does, whether or not ``TEMPLATES_AUTO_RELOAD`` is on.
* The Jinja template cache of those apps is cleared on reload (an app kept
  in an excluded module keeps its environment, and its cached templates,
  otherwise).
"""

import os
import sys
import weakref

from . import Integration


class FlaskIntegration(Integration):
    name = "flask"
    resets = "watches the template folders of the app and its blueprints, clears Jinja's template cache"

    def __init__(self):
        # module -> the Flask apps among its globals when it was first
        # looked at: a module's apps are made when it is imported, and a
        # reload that re-imports a few modules of a thousand must not look
        # through every module's globals again.
        self._apps_of = weakref.WeakKeyDictionary()

    def detect(self):
        return "flask" in sys.modules

    def _apps(self, ctx):
        flask = sys.modules.get("flask")
        if flask is None:
            return []
        found = []

        def add(candidate):
            # type(), not isinstance(): flask.request and other proxies would
            # look up their target through __class__.
            if issubclass(type(candidate), flask.Flask) and all(candidate is not a for a in found):
                found.append(candidate)

        add(ctx.app)
        add(getattr(ctx.app, "__self__", None))  # app.wsgi_app given as the callable
        for _name, module in ctx.modules(kept_too=True):
            try:
                apps = self._apps_of.get(module)
            except TypeError:
                apps = None
            if apps is None:
                try:
                    values = list(vars(module).values())
                except TypeError:
                    continue
                apps = tuple(v for v in values if issubclass(type(v), flask.Flask))
                try:
                    self._apps_of[module] = apps
                except TypeError:
                    pass
            for app in apps:
                add(app)
        return found

    def watch_paths(self, ctx):
        paths = []
        for app in self._apps(ctx):
            scaffolds = [app] + list(getattr(app, "blueprints", {}).values())
            for scaffold in scaffolds:
                folder = getattr(scaffold, "template_folder", None)
                root = getattr(scaffold, "root_path", None)
                if folder and root:
                    path = os.path.join(root, folder)
                    if path not in paths:
                        paths.append(path)
        return paths

    def before(self, ctx):
        for app in self._apps(ctx):
            ctx.attempt("flask: clear the Jinja cache of %s" % app.name, _clear_jinja_cache, app)

    def after(self, ctx):
        self.before(ctx)


def _clear_jinja_cache(app):
    env = app.__dict__.get("jinja_env")  # not created yet: nothing cached
    if env is not None and getattr(env, "cache", None) is not None:
        env.cache.clear()


integration = FlaskIntegration()
