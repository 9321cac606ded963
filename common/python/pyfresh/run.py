"""Runs a command and starts it again whenever it exits with status 75.

    python3 -m pyfresh.run -- python3 -m pyfresh.serve mysite.wsgi:application --restart-on requirements.txt

A pyfresh Reloader exits with status 75 (EX_TEMPFAIL) when a change cannot
be applied in-process (a compiled extension, a file on the restart-on list).
This supervisor then relaunches the command; any other exit status ends the
supervisor with that status (a child killed by signal N gives 128 + N).
A child that asks for a restart less than --min-uptime seconds after it
started is relaunched after a delay that doubles each time (up to
--max-delay), so a crash loop does not spin. SIGINT, SIGTERM and SIGHUP are
passed on to the child; the supervisor then exits with the child's status
and does not relaunch it.
"""

import argparse
import signal
import subprocess
import sys
import threading
import time

from ._core import RESTART_EXIT_STATUS as RESTART_STATUS

_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _say(message):
    sys.stderr.write("pyfresh.run: %s\n" % message)
    sys.stderr.flush()


class Supervisor:
    def __init__(self, command, min_uptime=1.0, first_delay=0.5, max_delay=10.0):
        self.command = command
        self.min_uptime = min_uptime
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.child = None
        self.stop_signal = None
        self._wake = threading.Event()
        self.launches = 0

    def _on_signal(self, signum, _frame):
        self.stop_signal = signum
        self._wake.set()
        self._forward(signum)

    def _forward(self, signum):
        child = self.child
        if child is not None and child.poll() is None:
            try:
                child.send_signal(signum)
            except ProcessLookupError:
                pass

    def run(self):
        for signum in _FORWARDED:
            signal.signal(signum, self._on_signal)
        delay = 0.0
        while True:
            if self.stop_signal is not None:
                return 128 + self.stop_signal
            started = time.monotonic()
            try:
                self.child = subprocess.Popen(self.command)
            except OSError as error:
                _say("cannot run %s: %s" % (self.command[0], error))
                return 127
            self.launches += 1
            if self.stop_signal is not None:
                # Arrived while the child was being started (before
                # self.child was set): pass it on now.
                self._forward(self.stop_signal)
            status = self._wait(self.child)
            uptime = time.monotonic() - started
            if status != RESTART_STATUS or self.stop_signal is not None:
                return status if status >= 0 else 128 - status
            if uptime < self.min_uptime:
                delay = min(self.max_delay, delay * 2 if delay else self.first_delay)
                _say("the child asked for a restart after %.1f s; restarting in %.1f s" % (uptime, delay))
                if self._wake.wait(delay) and self.stop_signal is not None:
                    return 128 + self.stop_signal
            else:
                delay = 0.0
                _say("the child asked for a restart (exit status %d); restarting" % RESTART_STATUS)

    def _wait(self, child):
        while True:
            try:
                return child.wait()
            except InterruptedError:  # pragma: no cover (PEP 475 retries)
                continue


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python3 -m pyfresh.run", usage="%(prog)s [options] -- COMMAND [ARG...]",
        description="Run COMMAND; start it again when it exits with status 75.")
    parser.add_argument("--min-uptime", type=float, default=1.0,
                        help="a child asking for a restart sooner than this (seconds) is relaunched "
                             "after a growing delay (default 1)")
    parser.add_argument("--max-delay", type=float, default=10.0,
                        help="the longest delay before a relaunch, in seconds (default 10)")
    if "--" in argv:
        split = argv.index("--")
        options, command = argv[:split], argv[split + 1:]
    else:
        options, command = [], argv
    args = parser.parse_args(options)
    if not command:
        parser.error("no command given: python3 -m pyfresh.run -- COMMAND [ARG...]")
    supervisor = Supervisor(command, min_uptime=args.min_uptime, max_delay=args.max_delay)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
