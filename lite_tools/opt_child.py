"""Children that run Paddle Lite's optimizer (opt_child_main), and how the parent starts and hears from them.

Paddle Lite's optimizer may abort(), exit(1) or segfault, so none of it runs in our process: the parent only reads
what the child prints and writes. A child imports Paddle Lite at once, then reads one job from stdin, so a child
started before its job is known imports Paddle Lite (~25 ms) while the parent checks the export. It runs without
`site` (its .pth processing costs ~13 ms), on the parent's import path. The CLI imports this module before anything
else to start children early, so it imports little itself.
"""

import marshal
import os
import subprocess
import sys
import tempfile

from .errors import ToolFailure

TIMEOUT_S = 1800
_prestarted = []


class OptChild:
    """One child: send() it a job, then result(). Its output goes to a file, not a pipe, so a chatty optimizer
    never blocks on a full pipe while the parent works on something else."""

    def __init__(self):
        env = dict(os.environ, GLOG_minloglevel=os.environ.get("GLOG_minloglevel", "2"))
        paths = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
        paths += [p for p in sys.path if p and os.path.isdir(p)]
        if env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        env["PYTHONPATH"] = os.pathsep.join(paths)
        self._log = tempfile.TemporaryFile()
        code = "from lite_tools.opt_child_main import main; main()"
        self._proc = subprocess.Popen([sys.executable, "-S", "-c", code], stdin=subprocess.PIPE, stdout=self._log,
                                      stderr=subprocess.STDOUT, env=env)

    def send(self, job: dict) -> None:
        try:
            self._proc.stdin.write(marshal.dumps(job))  # same interpreter on both ends; no json import there
            self._proc.stdin.close()
        except OSError:
            pass  # the child is already gone; result() tells how

    def result(self, timeout: float = TIMEOUT_S) -> tuple:
        """(exit code, negative for a signal; everything it printed)."""
        import threading

        # A timer kills the child at the deadline: Popen.wait(timeout) polls, and would add up to 50 ms per job.
        expired = threading.Event()

        def expire():
            expired.set()
            self._proc.kill()

        deadline = threading.Timer(timeout, expire)
        deadline.start()
        try:
            returncode = self._proc.wait()
        finally:
            deadline.cancel()
        if expired.is_set():
            raise ToolFailure(f"Paddle Lite's optimizer did not finish within {timeout:.0f} s")
        self._log.seek(0)
        return returncode, self._log.read().decode(errors="replace")

    def run(self, job: dict, timeout: float = TIMEOUT_S) -> tuple:
        self.send(job)
        return self.result(timeout)

    def close(self) -> None:
        """Stop the child if its job never came (a failed check, a cache hit) and release its files."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._proc.stdin.close()
        self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()  # idempotent


def prestart(count: int) -> None:
    """Start `count` children for the next take() calls. The CLI calls this before importing the rest of
    lite-tools, so that Paddle Lite's import in the children overlaps ours; unused ones are stopped at exit."""
    if not _prestarted:
        import atexit

        atexit.register(release_prestarted)
    _prestarted.extend(OptChild() for _ in range(count))


def take() -> OptChild:
    """A prestarted child if one is waiting, else a new one."""
    return _prestarted.pop(0) if _prestarted else OptChild()


def release_prestarted() -> None:
    while _prestarted:
        _prestarted.pop().close()
