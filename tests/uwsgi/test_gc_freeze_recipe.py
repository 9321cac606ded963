"""The README's remedy for the first reload of a preforked worker
("What happens on a request"): gcfreeze.py, loaded with `import = gcfreeze`,
freezes in each worker the objects it inherited from the master, and
reloads go on working in frozen workers."""

import concurrent.futures
import re
import textwrap
from pathlib import Path

from pyfresh_testsupport.uwsgi_harness import App, write_file

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_gcfreeze():
    blocks = [block for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
              if "post_fork_hook" in block]
    assert len(blocks) == 1, "%d python blocks of README.md set post_fork_hook" % len(blocks)
    return textwrap.dedent(blocks[0])


def set_version(app, version):
    write_file(app.views, "import gc\n\n\ndef version():\n    return '%s frozen=%%d' %% gc.get_freeze_count()\n"
               % version)


def answers(instance, requests=8):
    with concurrent.futures.ThreadPoolExecutor(max_workers=requests) as pool:
        return [f.result(timeout=60) for f in [pool.submit(instance.get_json, "/slow") for _ in range(requests)]]


def test_the_readmes_gc_freeze_hook_freezes_each_workers_inherited_objects(uwsgi, app_root):
    (app_root / "gcfreeze.py").write_text(readme_gcfreeze())
    app = App(app_root)
    set_version(app, "v1")
    uwsgi.start([("master", "true"), ("processes", "2"), ("import", "gcfreeze"), ("module", app.spec)],
                pythonpath=[app_root])
    for version in ("v1", "v2", "v3"):
        if version != "v1":
            set_version(app, version)
        seen = answers(uwsgi)
        for answer in seen:
            name, frozen = answer["version"].split(" frozen=")
            assert name == version, seen
            assert int(frozen) > 1000, seen  # the master's imports, not just a handful of objects
    assert len(uwsgi.log_lines("reloaded shop.wsgi")) >= 2
    uwsgi.assert_healthy()
