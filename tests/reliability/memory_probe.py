"""Reloads a small Flask app N times in this process through
pyfresh.Reloader and prints JSON figures: resident memory growth per reload
and how many old generations (module objects, Flask apps) are still alive.

Run by test_memory.py in a fresh interpreter (bytecode writing on):
    python3 memory_probe.py DIRECTORY RELOADS
"""

import gc
import json
import os
import sys
import time
import weakref

INIT = ""

APP = '''\
from flask import Flask

from relflask import models, views

app = Flask(__name__)
app.config["STORE"] = models.Store()
app.register_blueprint(views.bp)
'''

MODELS = '''\
import dataclasses


@dataclasses.dataclass
class Item:
    name: str
    price: float


class Store:
    def __init__(self):
        self.items = [Item("item %d" % i, i * 1.5) for i in range(50)]
'''

VIEWS = '''\
from flask import Blueprint, current_app, jsonify, render_template_string

VERSION = "{token}"
bp = Blueprint("shop", __name__)
PAGE = "<h1>{{{{ title }}}}</h1><ul>{{% for item in items %}}<li>{{{{ item.name }}}}: {{{{ item.price }}}}</li>{{% endfor %}}</ul>"


@bp.route("/")
def index():
    store = current_app.config["STORE"]
    return render_template_string(PAGE, title=VERSION, items=store.items[:5])


@bp.route("/api")
def api():
    return jsonify(version=VERSION, count=len(current_app.config["STORE"].items))
'''


def rss_kb():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def write(path, text):
    temp = path + ".tmp"
    with open(temp, "w") as handle:
        handle.write(text)
    os.replace(temp, path)


def main():
    root, reloads = sys.argv[1], int(sys.argv[2])
    warmup = 30
    package = os.path.join(root, "relflask")
    os.makedirs(package, exist_ok=True)
    write(os.path.join(package, "__init__.py"), INIT)
    write(os.path.join(package, "app.py"), APP)
    write(os.path.join(package, "models.py"), MODELS)
    write(os.path.join(package, "views.py"), VIEWS.format(token="t-00000"))
    sys.path.insert(0, root)

    import pyfresh
    from werkzeug.test import EnvironBuilder

    reloader = pyfresh.Reloader("relflask.app:app", packages=["relflask"])

    def get(path):
        environ = EnvironBuilder(path=path).get_environ()
        answer = {}

        def start_response(status, headers, exc_info=None):
            answer["status"] = status

        result = reloader(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        return answer["status"], body.decode()

    status, body = get("/")
    assert status.startswith("200") and "t-00000" in body, (status, body)

    generations = []   # weakrefs to (views module, Flask app) of every generation
    samples = []
    start_rss = None
    started = time.monotonic()
    deadline = started + 600
    for i in range(1, warmup + reloads + 1):
        token = "t-%05d" % i
        write(os.path.join(package, "views.py"), VIEWS.format(token=token))
        assert reloader.detector.check(), "the save was not seen"
        status, body = get("/" if i % 2 else "/api")
        assert status.startswith("200") and token in body, (i, status, body[:300])
        generations.append((weakref.ref(sys.modules["relflask.views"]), weakref.ref(reloader.app)))
        if i == warmup:
            gc.collect()
            start_rss = rss_kb()
            samples.append((0, start_rss, 0))
        elif i > warmup and (i - warmup) % 50 == 0:
            gc.collect()
            alive = sum(1 for module, app in generations if module() is not None or app() is not None)
            samples.append((i - warmup, rss_kb(), alive))
        if time.monotonic() > deadline:
            raise SystemExit("memory probe: over 600 s")
    gc.collect()
    end_rss = rss_kb()
    alive_modules = sum(1 for module, _ in generations if module() is not None)
    alive_apps = sum(1 for _, app in generations if app() is not None)
    # Least-squares slope of RSS over the reload count (less noisy than end - start).
    xs = [s[0] for s in samples]
    ys = [s[1] for s in samples]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    denominator = sum((x - mean_x) ** 2 for x in xs) or 1
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / denominator
    print(json.dumps({
        "reloads": reloads,
        "warmup_reloads": warmup,
        "rss_start_kb": start_rss,
        "rss_end_kb": end_rss,
        "kb_per_reload": round((end_rss - start_rss) / reloads, 3),
        "kb_per_reload_slope": round(slope, 3),
        "alive_views_modules": alive_modules,
        "alive_flask_apps": alive_apps,
        "max_alive_generations": max(s[2] for s in samples),
        "samples": samples,
        "engine_reloads": reloader.stats()["reloads"],
        "seconds": round(time.monotonic() - started, 1),
    }))


if __name__ == "__main__":
    main()
