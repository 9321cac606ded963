"""Imports the WSGI callable named by an app spec."""

import hashlib
import importlib
import os
import sys
import types

from . import _core


class AppLoadError(ImportError):
    """The app spec could not be imported; the message names the spec and the reason."""


class AppSpec:
    """A parsed, validated app spec: "pkg.module:callable" or "/path/app.wsgi[:callable]"."""

    def __init__(self, text):
        self.text = text
        self.kind, self.target, self.callable = _core.parse_app_spec(text)
        if self.kind == "file":
            self.target = _core.absolute_path(self.target, os.getcwd())
            digest = hashlib.sha1(self.target.encode("utf-8", "surrogateescape")).hexdigest()[:12]
            # The module a file spec is executed as; a valid dotted name, so
            # the package policy can cover it like any other.
            self.module_name = "pyfresh_file_" + digest
        else:
            self.module_name = self.target

    def __repr__(self):
        return "AppSpec(%r)" % self.text


def load(spec):
    """Imports the spec and returns the callable. Errors propagate unchanged
    (the reloader shows them); a missing or non-callable attribute raises
    AppLoadError naming the spec."""
    if spec.kind == "file":
        module = _execute_file(spec)
    else:
        module = importlib.import_module(spec.target)
    obj = module
    for attribute in spec.callable.split("."):
        try:
            obj = getattr(obj, attribute)
        except AttributeError:
            raise AppLoadError(
                "app spec %r: %s has no attribute %r" % (spec.text, _describe(obj, spec), attribute)
            ) from None
    if not callable(obj):
        raise AppLoadError("app spec %r: %r is not callable" % (spec.text, spec.callable))
    return obj


def _describe(obj, spec):
    if isinstance(obj, types.ModuleType):
        return "module %r" % (spec.target if spec.kind == "module" else os.path.basename(spec.target))
    return "%s object" % type(obj).__name__


def _execute_file(spec):
    """Runs a .wsgi/.py file as a fresh module, the way mod_wsgi and uWSGI's
    wsgi-file do, registered in sys.modules so the policy clears it."""
    path = spec.target
    with open(path, "rb") as source_file:
        source = source_file.read()
    code = compile(source, path, "exec", dont_inherit=True)
    module = types.ModuleType(spec.module_name)
    module.__file__ = path
    sys.modules[spec.module_name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        sys.modules.pop(spec.module_name, None)
        raise
    return module
