"""Stage-by-stage progress: a live status line on a terminal, plain lines otherwise, nothing with --quiet.
Every stage's wall time is recorded for the report."""

from __future__ import annotations

import contextlib
import sys
import time


class Progress:
    def __init__(self, quiet: bool = False, stream=None, prefix: str = ""):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.live = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.prefix = prefix
        self.timings = {}
        self._current = None

    def _write(self, text: str, final: bool) -> None:
        if self.quiet:
            return
        if self.live:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def __call__(self, message: str) -> None:
        """A status message within the current stage (replaces the live line on a terminal)."""
        stage = self._current or ""
        if stage and message.startswith(f"{stage}: "):
            message = message[len(stage) + 2:]  # library messages already name their stage
        label = f"{self.prefix}{stage}"
        self._write(f"{label}: {message}" if label else message, final=False)

    def note(self, message: str) -> None:
        """A line that stays (a live status line would be replaced by the next one), labelled like __call__."""
        label = f"{self.prefix}{self._current or ''}"
        self._write(f"{label}: {message}" if label else message, final=True)

    @contextlib.contextmanager
    def stage(self, name: str):
        self._current = name
        started = time.perf_counter()
        self._write(f"{self.prefix}{name}: running", final=False)
        try:
            yield self
        except BaseException:
            self.timings[name] = round(time.perf_counter() - started, 3)
            self._write(f"{self.prefix}{name}: failed after {self.timings[name]:.1f}s", final=True)
            raise
        finally:
            self._current = None
        self.timings[name] = round(time.perf_counter() - started, 3)
        self._write(f"{self.prefix}{name}: done in {self.timings[name]:.1f}s", final=True)
