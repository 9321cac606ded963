#!/usr/bin/python3
"""Live reload: from saving a file to the open page showing the change, in
headless Chromium, per host.

    /usr/bin/python3 bench/live_reload_bench.py --build-dir build [--saves 10]

Each host serves the browser tests' site (tests/support/pyfresh_testsupport/live_sites.py) with
live reload and debug on: `python3 -m pyfresh.serve`, uWSGI (master,
processes = 2, threads = 2) and Apache + mod_wsgi daemon mode
(processes = 2, threads = 4). One Chromium tab keeps the page open; per save
(an editor's atomic rename of lrsite/page.py with a new message) the time
is taken from just before the save to the new page's DOMContentLoaded (the
browser's own clock, the same wall clock as this script's), and how often
the page loaded for that save.

Baseline, measured in the same run on the same servers: the same save
followed at once by the browser loading the page itself (what a refresh by
hand costs at best: reload on the server plus page load, no polling). The
page checks every 250 ms (live_reload_client.POLL_MS), so live reload
should take the baseline plus about half an interval on average.

Writes bench/results/live_reload.json.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))  # pyfresh_testsupport, as in the tests

HOST_LABELS = {
    "serve": "python3 -m pyfresh.serve (threaded)",
    "uwsgi": "uWSGI, processes = 2, threads = 2",
    "apache": "Apache + mod_wsgi daemon, processes = 2, threads = 4",
}


def shown_at(driver):
    """Epoch ms of the current page's DOMContentLoaded."""
    return driver.execute_script("return performance.timing.domContentLoadedEventEnd;")


def live_series(live_sites, driver, site, saves, tag):
    times, loads_per_save = [], []
    for index in range(saves):
        message = "%s-live-%d" % (tag, index)
        before = live_sites.loads(driver)
        time.sleep(0.6 + random.uniform(0, 0.25))  # a random point of the page's 250 ms check cycle
        started = time.time() * 1000.0
        live_sites.save(site.page_file, live_sites.page_source(message))
        live_sites.wait_until(lambda: live_sites.heading(driver) == message, timeout=20,
                              message="the page showing %s" % message)
        live_sites.wait_until(lambda: shown_at(driver) > 0, timeout=5, message="DOMContentLoaded")
        times.append(shown_at(driver) - started)
        time.sleep(0.5)  # a second load for the same save would land here
        loads_per_save.append(live_sites.loads(driver) - before)
    return times, loads_per_save


def direct_series(live_sites, driver, site, saves, tag):
    times = []
    for index in range(saves):
        message = "%s-direct-%d" % (tag, index)
        time.sleep(0.3)
        started = time.time() * 1000.0
        live_sites.save(site.page_file, live_sites.page_source(message))
        driver.get(site.url)
        assert live_sites.heading(driver) == message, live_sites.page_text(driver)
        times.append(shown_at(driver) - started)
    return times


def summary(values):
    return {"median_ms": statistics.median(values), "min_ms": min(values), "max_ms": max(values),
            "samples_ms": [round(v, 1) for v in values]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build-dir", default=os.path.join(SOURCE_DIR, "build"))
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--hosts", nargs="+", default=["serve", "uwsgi", "apache"], choices=sorted(HOST_LABELS))
    parser.add_argument("--output", default=os.path.join(HERE, "results", "live_reload.json"))
    args = parser.parse_args()
    build_dir = os.path.abspath(args.build_dir)
    os.environ["PYFRESH_BUILD_DIR"] = build_dir
    sys.path.insert(0, os.path.join(build_dir, "python"))
    from pyfresh_testsupport import live_sites
    from pyfresh.live_reload_client import POLL_MS

    missing = live_sites.chromium_missing()
    if missing:
        sys.exit("live_reload_bench: " + missing)
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "saves": args.saves,
               "poll_ms": POLL_MS, "hosts": {}}
    driver = live_sites.start_browser()
    try:
        for host in args.hosts:
            site = live_sites.HOSTS[host](build_dir)
            with site:
                driver.get(site.url)
                live, loads = live_series(live_sites, driver, site, args.saves, host)
                driver.get("about:blank")
                direct = direct_series(live_sites, driver, site, args.saves, host)
            entry = {"label": HOST_LABELS[host], "live": summary(live), "direct": summary(direct),
                     "loads_per_save": loads,
                     "live_over_direct": statistics.median(live) / statistics.median(direct)}
            results["hosts"][host] = entry
            print("%-55s save -> page shows it: live reload median %6.1f ms (min %.1f, max %.1f), "
                  "loads per save %s; save -> own page load %6.1f ms; ratio %.1f" % (
                      HOST_LABELS[host], entry["live"]["median_ms"], entry["live"]["min_ms"],
                      entry["live"]["max_ms"], sorted(set(loads)), entry["direct"]["median_ms"],
                      entry["live_over_direct"]), flush=True)
    finally:
        driver.quit()
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as handle:
        json.dump(results, handle, indent=2)
    print("wrote", args.output)


if __name__ == "__main__":
    main()
