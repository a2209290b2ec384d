"""Private work folders (`.lite-tools-*` in or beside OUT, `lite-tools-*` in $TMPDIR) that do not outlive their run.

Why: SIGTERM (CI cancel, `timeout`, `docker stop`) and SIGKILL used to leave 45 MB hidden folders that nothing ever
removed (probe O46, D4). Now:
- each folder holds LOCK, flock()ed by its owner for as long as the owner lives, with the owner's PID inside (for
  people). The lock file is locked before it gets its name, so a sweeper never sees an unlocked LOCK of a live run;
- creating a folder first sweeps its siblings whose LOCK can be locked: their owner is dead (SIGKILL, power loss).
  A live run's lock is held, so concurrent runs keep working; a folder without LOCK is never ours to delete;
- SIGTERM becomes SystemExit(143), so the `finally` blocks that remove our folders (and stop our children) run;
- move_all() moves a folder's results into place all or none (here, not in lite_tools.outputs, whose tempfile import
  costs `opt` ~5 ms).

Test-only hook: env LITE_TOOLS_TEST_STOP_AT=STAGE makes the process print `lite-tools: test stop at STAGE` on
stderr and wait there (until SIGUSR1), so tests signal it at exactly that point instead of after a sleep.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import sys
from pathlib import Path

from .errors import BadInput

LOCK = ".lite-tools-lock"
PREFIXES = (".lite-tools-", "lite-tools-")  # only folders so named, holding LOCK, are ever swept
STOP_ENV = "LITE_TOOLS_TEST_STOP_AT"

_held = {}  # folder path -> the fd holding its lock


def _on_sigterm(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the clean-up short
    raise SystemExit(128 + signum)


def handle_sigterm() -> None:
    """Turn SIGTERM into SystemExit, unless someone else handles it already (or we are not the main thread)."""
    global _paddle_took_sigterm
    try:
        current = signal.getsignal(signal.SIGTERM)
        if current == signal.SIG_DFL or (current is _on_sigterm and _paddle_took_sigterm):
            signal.signal(signal.SIGTERM, _on_sigterm)  # (again, after paddle was imported in another thread)
            _paddle_took_sigterm = False
            if not any(isinstance(f, _AfterPaddle) for f in sys.meta_path):
                sys.meta_path.insert(0, _AfterPaddle())
    except ValueError:  # not the main thread: signals are not ours to handle
        pass


_paddle_took_sigterm = False  # paddle was imported outside the main thread: its C handler is SIGTERM's now


class _AfterPaddle:
    """Paddle's import installs its own C handler for SIGTERM (glog's failure handler, in core.init_glog: a
    "FatalError: `Termination signal`" dump, then death, so no `finally` of ours runs; once it deadlocked in
    malloc), while signal.getsignal() still names ours (probe 2026-12-03). This finder finds nothing itself: it
    lets the real finders find `paddle` and `paddle.base.core` and wraps what they load:
    - core.init_glog puts the Python-level handler back at the C level as soon as it has installed Paddle's (other
      threads, OpenBLAS's among them, take a process's SIGTERM too, so blocking it in ours would not do);
    - while paddle imports, a SIGTERM is only noted (a SystemExit raised inside its pybind11 init surfaced as
      "ImportError: initialization failed"), and acts as usual once the import is done."""

    def find_spec(self, name, path=None, target=None):
        if name not in ("paddle", "paddle.base.core") or name in sys.modules:
            return None
        from importlib.machinery import PathFinder  # (find_spec alone, without an import, may ask us first)

        spec = PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            wrap = _deferring_sigterm if name == "paddle" else _reclaiming_after_init_glog
            spec.loader.exec_module = wrap(spec.loader.exec_module)
        return spec


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _reclaiming_after_init_glog(exec_module):
    def exec_core(module):
        exec_module(module)
        init_glog = getattr(module, "init_glog", None)
        if callable(init_glog):
            def init_glog_then_reclaim(*args, **kwargs):
                global _paddle_took_sigterm
                try:
                    return init_glog(*args, **kwargs)
                finally:
                    handler = signal.getsignal(signal.SIGTERM)
                    if not _in_main_thread():  # only the main thread may set handlers: the next
                        _paddle_took_sigterm = True  # handle_sigterm() there puts ours back
                    elif callable(handler):
                        signal.signal(signal.SIGTERM, handler)  # Python's C handler again, Paddle's gone
            module.init_glog = init_glog_then_reclaim
    return exec_core


def _deferring_sigterm(exec_module):
    def exec_paddle(module):
        if not _in_main_thread() or signal.getsignal(signal.SIGTERM) is not _on_sigterm:
            return exec_module(module)
        noted = []
        signal.signal(signal.SIGTERM, lambda signum, frame: noted.append(signum))
        try:
            exec_module(module)
            stop_at("paddle-import")  # test-only: paddle's own handler was installed; a SIGTERM here is noted
        finally:
            signal.signal(signal.SIGTERM, _on_sigterm)
            if noted:
                _on_sigterm(noted[0], None)  # the run ends now, its `finally` blocks running
    return exec_paddle


def sweep(parent) -> None:
    """Remove the folders in `parent` left by dead runs: our names, our uid, a LOCK nobody holds."""
    try:
        entries = os.scandir(parent)
    except OSError:
        return
    uid = os.getuid()
    with entries:
        for entry in entries:
            if not entry.name.startswith(PREFIXES) or entry.path in _held:
                continue
            try:
                if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                # for writing: NFS emulates flock with fcntl locks, where an exclusive lock needs a writable fd
                fd = os.open(os.path.join(entry.path, LOCK), os.O_RDWR | os.O_NOFOLLOW)
            except OSError:
                continue  # no LOCK: not made by this module (or a user's folder), so never deleted
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue  # its owner is alive (or locks do not work here: then nothing is ever swept)
            try:
                shutil.rmtree(entry.path, ignore_errors=True)
            finally:
                os.close(fd)


def make(parent, prefix: str = ".lite-tools-") -> Path:
    """Create and lock a private folder `parent/PREFIX<random>` (mode 700), after sweeping dead runs' siblings.
    OSError when `parent` is not writable; remove() it when done."""
    handle_sigterm()
    sweep(parent)
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # no folder without its lock
    try:
        folder = Path(parent) / f"{prefix}{os.urandom(8).hex()}"
        folder.mkdir(mode=0o700)
        pending = folder / f"{LOCK}.{os.getpid()}"
        try:
            fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, f"{os.getpid()}\n".encode())
            os.rename(pending, folder / LOCK)  # locked before it has the name sweepers look for
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        _held[str(folder)] = fd
        return folder
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def remove(folder) -> None:
    """Delete one of our folders (still locked while it goes, so no sweeper races us), then drop its lock."""
    shutil.rmtree(folder, ignore_errors=True)
    fd = _held.pop(str(folder), None)
    if fd is not None:
        os.close(fd)


@contextlib.contextmanager
def folder(parent, prefix: str = ".lite-tools-"):
    """make() for a `with` block: the folder goes when the block ends, by exception and SIGTERM too."""
    path = make(parent, prefix)
    try:
        yield path
    finally:
        remove(path)


def move_all(pairs, backups: Path) -> None:
    """Move each (src, dst) pair onto dst, all or none; `backups` is a new folder on dst's file system.

    Why: one os.replace after another left a mixed set when the second could not be replaced (probe O27: a manifest
    contradicting the .nb beside it). Each old dst is first linked (or copied) into `backups`; when a step fails,
    the dsts already moved get their old files back (new ones are removed) and BadInput names the one that failed."""
    backups = Path(backups)
    try:
        backups.mkdir()
    except OSError as e:
        raise BadInput(f"{backups.parent}: cannot write there ({e.strerror or e})") from None
    with signals_held():  # a SIGTERM or Ctrl-C between two moves would leave the mixed set this exists to prevent
        _move_all(pairs, backups)


@contextlib.contextmanager
def signals_held():
    """SIGTERM and SIGINT wait until the block ends (a few renames), then act as usual."""
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def _move_all(pairs, backups: Path) -> None:
    done = []  # (dst, its backup or None)
    for i, (src, dst) in enumerate(pairs):
        try:
            backup = None
            if os.path.lexists(dst):
                backup = backups / str(i)
                try:
                    os.link(dst, backup, follow_symlinks=False)
                except OSError:
                    shutil.copy2(dst, backup, follow_symlinks=False)
            os.replace(src, dst)
        except OSError as e:
            for moved, previous in reversed(done):
                try:
                    if previous:
                        os.replace(previous, moved)
                    else:
                        os.unlink(moved)
                except OSError:
                    pass
            raise BadInput(f"{dst}: cannot be replaced ({e.strerror or e}); {Path(dst).parent} keeps its previous "
                           "outputs, unchanged") from None
        done.append((dst, backup))


def stop_at(stage: str) -> None:
    """Test-only (module docstring): announce `stage` and wait for SIGUSR1; SIGTERM (held while paddle imports)
    and SIGKILL still work."""
    if os.environ.get(STOP_ENV) != stage:
        return
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    try:
        print(f"lite-tools: test stop at {stage} (pid {os.getpid()})", file=sys.stderr, flush=True)
        signal.sigwaitinfo({signal.SIGUSR1})  # not sigwait: glibc's retries EINTR, so SIGTERM's handler never ran
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
