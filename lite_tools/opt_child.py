"""Children that run Paddle Lite's optimizer (opt_child_main), and how the parent starts and hears from them.

Paddle Lite's optimizer may abort(), exit(1) or segfault, so none of it runs in our process: the parent only reads
what a child prints and writes. A child imports Paddle Lite at once and then reads one job from a pipe, so a child
started before its job is known imports Paddle Lite (~25 ms) while the parent checks the export.

`lite-tools opt` forks its child first thing, while the CLI is still a bare single-threaded interpreter (~1 ms, no
second interpreter start). Everywhere else (a library call, a process with threads) a fresh interpreter is spawned
without `site` (its .pth processing costs ~13 ms), on the parent's import path. Either way the child's output goes
to an anonymous file, not a pipe, so a chatty optimizer never stalls while the parent is busy elsewhere.
This module is imported before anything else, so it imports little.
"""

import marshal
import os
import signal
import sys

from .errors import ToolFailure

TIMEOUT_S = 1800
_SPAWN_CODE = "from lite_tools.opt_child_main import main; main()"
_open = []  # every child not yet closed: a forked child must drop its siblings' pipe ends
_prestarted = []


def _anonymous_file() -> int:
    if hasattr(os, "memfd_create"):
        return os.memfd_create("lite-tools-opt-log")
    import tempfile

    with tempfile.TemporaryFile() as f:
        return os.dup(f.fileno())


class OptChild:
    """One child: send() it a job, then result(); close() stops it if it is still running."""

    def __init__(self, fork: bool = False):
        self.returncode = None
        self._log = _anonymous_file()
        job_in, self._job = os.pipe()
        env = dict(os.environ, GLOG_minloglevel=os.environ.get("GLOG_minloglevel", "2"))
        if fork:
            for stream in (sys.stdout, sys.stderr):  # or the child would print our pending output again
                if stream is not None:
                    stream.flush()
            self.pid = os.fork()
            if self.pid == 0:
                _forked_child(job_in, self._job, self._log, env)
        else:
            paths = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
            paths += [p for p in sys.path if p and os.path.isdir(p)]
            env["PYTHONPATH"] = os.pathsep.join(paths + [env["PYTHONPATH"]] if env.get("PYTHONPATH") else paths)
            self.pid = os.posix_spawn(sys.executable, [sys.executable, "-S", "-c", _SPAWN_CODE], env,
                                      file_actions=[(os.POSIX_SPAWN_DUP2, job_in, 0),
                                                    (os.POSIX_SPAWN_DUP2, self._log, 1),
                                                    (os.POSIX_SPAWN_DUP2, self._log, 2)])
        os.close(job_in)
        _open.append(self)

    def send(self, job: dict) -> None:
        try:
            os.write(self._job, marshal.dumps(job))  # the same interpreter reads it; no json import there
        except OSError:
            pass  # the child is already gone; result() tells how
        self._close_job()

    def result(self, timeout: float = TIMEOUT_S) -> tuple:
        """(exit code, negative for a signal; everything it printed)."""
        import threading

        # A timer kills the child at the deadline; waitpid itself blocks without polling.
        expired = threading.Event()

        def expire():
            expired.set()
            self._kill()

        deadline = threading.Timer(timeout, expire)
        deadline.start()
        try:
            self._reap()
        finally:
            deadline.cancel()
        if expired.is_set():
            self.close()
            raise ToolFailure(f"Paddle Lite's optimizer did not finish within {timeout:.0f} s")
        os.lseek(self._log, 0, os.SEEK_SET)
        chunks = []
        while True:
            chunk = os.read(self._log, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        return self.returncode, b"".join(chunks).decode(errors="replace")

    def run(self, job: dict, timeout: float = TIMEOUT_S) -> tuple:
        self.send(job)
        return self.result(timeout)

    def close(self) -> None:
        """Stop the child if it is still running (its job never came, or is no longer wanted); idempotent."""
        if self.returncode is None:
            self._kill()
            self._reap()
        self._close_job()
        if self._log is not None:
            os.close(self._log)
            self._log = None
        if self in _open:
            _open.remove(self)

    def _kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _reap(self) -> None:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)

    def _close_job(self) -> None:
        if self._job is not None:
            os.close(self._job)
            self._job = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _forked_child(job_in: int, job_out: int, log: int, env: dict) -> None:
    """The forked child's whole life; it never returns into the parent's code."""
    try:
        # Writing ends of job pipes, ours and our siblings', would keep a job's end-of-file from arriving.
        os.close(job_out)
        for sibling in _open:
            for fd in (sibling._job, sibling._log):
                if fd is not None:
                    os.close(fd)
        os.dup2(job_in, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.update(env)
        from .opt_child_main import main

        main()
    except BaseException:
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
    os._exit(1)


def prestart(count: int) -> None:
    """Start `count` children for the next take() calls. The CLI calls this first thing, so that Paddle Lite's
    import in them overlaps the rest of ours; they are forked when this process has no other thread. Unused ones
    are stopped at exit."""
    if not _prestarted:
        import atexit

        atexit.register(release_prestarted)
    fork = hasattr(os, "fork") and ("threading" not in sys.modules or sys.modules["threading"].active_count() == 1)
    _prestarted.extend(OptChild(fork=fork) for _ in range(count))


def take() -> OptChild:
    """A prestarted child if one is waiting, else a new one."""
    return _prestarted.pop(0) if _prestarted else OptChild()


def release_prestarted() -> None:
    while _prestarted:
        _prestarted.pop().close()
