"""Bottle 0.12.

* ``bottle.TEMPLATES``, the compiled-template cache, lives in ``bottle`` and
  survives reloads: cleared.
* ``@bottle.route`` and ``@bottle.hook`` add to the default app, which lives
  in ``bottle`` too: each reload gets a fresh default app (the stack's top
  is replaced before the re-import), so a removed route stops answering and
  routes do not pile up.
* ``bottle.TEMPLATE_PATH.insert(...)`` at import adds an entry per reload:
  duplicates are dropped after it.
* The template directories the app added to ``TEMPLATE_PATH`` are watched.
"""

import os
import sys

from . import Integration


class BottleIntegration(Integration):
    name = "bottle"
    resets = ("clears the template cache, gives each reload a fresh default app, keeps TEMPLATE_PATH "
              "from growing, watches the template directories the app added")

    def detect(self):
        return "bottle" in sys.modules

    def watch_paths(self, ctx):
        bottle = sys.modules["bottle"]
        paths = []
        for entry in list(bottle.TEMPLATE_PATH):
            # Bottle's defaults ('./', './views/') are relative to whatever the
            # server's working directory is: only a views/ that exists.
            if not isinstance(entry, str) or os.path.normpath(entry) == ".":
                continue
            path = os.path.abspath(entry)
            if os.path.isdir(path) and path != os.sep and path not in paths:
                paths.append(path)
        return paths

    def scope(self, ctx, names):
        """The fresh default app gets the routes of the re-imported modules
        only: when modules of the packages added routes to the default app
        (the @bottle.route style), every one of them must be re-imported."""
        bottle = sys.modules["bottle"]
        for app in list(bottle.app):
            for route in list(getattr(app, "routes", ())):
                module = getattr(getattr(route, "callback", None), "__module__", None)
                if isinstance(module, str) and ctx.in_packages(module):
                    return "the default app, which %s adds routes to, is rebuilt from every module" % module
        return None

    def before(self, ctx):
        bottle = sys.modules["bottle"]
        ctx.state["stack"] = list(bottle.app)
        ctx.state["template_path"] = list(bottle.TEMPLATE_PATH)
        bottle.TEMPLATES.clear()
        if len(bottle.app):
            bottle.app[-1] = bottle.Bottle()
        else:
            bottle.app.push()

    def after(self, ctx):
        bottle = sys.modules["bottle"]
        bottle.TEMPLATE_PATH[:] = list(dict.fromkeys(bottle.TEMPLATE_PATH))  # in place: its id keys TEMPLATES
        bottle.TEMPLATES.clear()

    def undo(self, ctx):
        bottle = sys.modules["bottle"]
        if "stack" in ctx.state:
            bottle.app[:] = ctx.state["stack"]
        if "template_path" in ctx.state:
            bottle.TEMPLATE_PATH[:] = ctx.state["template_path"]
        bottle.TEMPLATES.clear()


integration = BottleIntegration()
