"""Native code that may crash runs in a spawned child process: Paddle, Paddle Lite and faiss abort or segfault on
damaged files, and that (or a hang) must cost the child, not the CLI. Spawned, never forked: Paddle's threads in
this process do not survive a fork.

call() runs one function in a child and returns its result. start(), answer() and how_it_ended() are its pieces,
for the long-lived workers that serve many requests (IsolatedLiteEngine, the batch pool).
"""

from __future__ import annotations

import multiprocessing
import os

from .errors import LiteToolsError
from .lite_runner import describe_exit

GRACE_S = 5  # a child that has answered, or died, is reaped within this; one still running after it is killed


class Died(Exception):
    """The child ended, or did not answer in time, without a result. str(): how (SIGSEGV, exit code 1, no answer in
    600 s), for the caller's one-line error naming what crashed."""


class Failed(Exception):
    """The function raised an exception other than a LiteToolsError in the child. str(): "Type: message"."""


def start(target, *args, daemon: bool = True) -> tuple:
    """(process, connection): target(its end of the pipe, *args) running in a spawned child."""
    context = multiprocessing.get_context("spawn")
    conn, child_end = context.Pipe()
    process = context.Process(target=target, args=(child_end, *args), daemon=daemon)
    process.start()
    child_end.close()  # the child holds the only other end: EOF here once it is gone
    return process, conn


def answer(conn, timeout: float):
    """The child's next message, or None when it is gone or says nothing for `timeout` s."""
    try:
        if conn.poll(timeout):
            return conn.recv()
    except (EOFError, OSError):
        pass
    return None


def how_it_ended(process, timeout: float) -> str:
    """Why a child gave no answer: the signal or exit code it ended with, or no answer in `timeout` s."""
    process.join(GRACE_S)
    return describe_exit(process.exitcode) if process.exitcode is not None else f"no answer in {timeout:g} s"


def stop(process, grace: float = GRACE_S) -> None:
    """Reap the child; kill it if it is still there after `grace` s."""
    process.join(grace)
    if process.is_alive():
        process.kill()
        process.join()


def output_to(log_file: str) -> None:
    """In a child: stdout and stderr, native libraries' included, go to `log_file` (not the CLI's terminal)."""
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _call_in_child(conn, fn, args: tuple, log_file) -> None:
    if log_file is not None:
        output_to(log_file)
    try:
        reply = ("ok", fn(*args))
    except LiteToolsError as e:  # a one-line message already: raised again as itself in the parent
        reply = ("raised", e)
    except Exception as e:  # a Python-level failure (a native one kills this process instead)
        reply = ("failed", f"{type(e).__name__}: {e}")
    conn.send(reply)
    conn.close()


def call(fn, *args, timeout: float, log_file=None):
    """fn(*args) in a spawned child (fn a module-level function, args picklable): its result. A LiteToolsError it
    raises is raised here as itself, any other exception as Failed; Died when the child ends without a result or
    gives none in `timeout` s. log_file: where the child's output goes (default: this process's stdout/stderr)."""
    process, conn = start(_call_in_child, fn, args, None if log_file is None else str(log_file))
    reply = None
    try:
        reply = answer(conn, timeout)
        if reply is None:
            raise Died(how_it_ended(process, timeout))
    finally:
        conn.close()
        stop(process, GRACE_S if reply is not None else 0)  # no answer: how_it_ended waited already
    if reply[0] == "raised":
        raise reply[1]
    if reply[0] == "failed":
        raise Failed(reply[1])
    return reply[1]
