"""Waiting for AWS to finish something: a poll loop with a timeout, and a progress line.

The clock is a module attribute read at call time, so that tests replace it with one whose
`sleep` only advances the time: a wait of an hour then costs nothing, and stays exact.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from infra.ops.aws import OpsError


@dataclass(frozen=True)
class Clock:
    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


CLOCK = Clock()

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class TimedOutError(OpsError):
    """The wait ran out of time; AWS is usually still working on it."""

    def __init__(self, what: str, status: str, elapsed: float) -> None:
        self.status = status
        self.elapsed = elapsed
        super().__init__(f"timed out after {duration(elapsed)} waiting for {what} (last: {status})")


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds:02d}s"


class Progress:
    """One progress line on stderr: redrawn in place on a terminal; elsewhere (CI logs, pipes)
    a new line only when the status changes, so logs stay short."""

    def __init__(self, what: str, stream: TextIO | None = None) -> None:
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self._ticks = 0
        self._last: str | None = None

    def update(self, status: str, elapsed: float) -> None:
        if self.tty:
            frame = SPINNER[self._ticks % len(SPINNER)]
            self._ticks += 1
            line = f"{frame} {self.what}: {status} ({duration(elapsed)})"
            self.stream.write(f"\r\033[K{line}")
        elif status != self._last:
            self.stream.write(f"… {self.what}: {status} ({duration(elapsed)})\n")
        self._last = status
        self.stream.flush()

    def finish(self, status: str, elapsed: float) -> None:
        prefix = "\r\033[K" if self.tty else ""
        self.stream.write(f"{prefix}✓ {self.what}: {status} ({duration(elapsed)})\n")
        self.stream.flush()

    def abandon(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def wait_until(
    poll: Callable[[], tuple[bool, str]],
    *,
    what: str,
    timeout: float,
    interval: float,
    progress: Progress | None = None,
) -> str:
    """Call `poll` (returning done and a status for humans) until done or `timeout` seconds
    have passed; return the final status or raise `TimedOutError` with the last one."""
    clock = CLOCK
    progress = progress or Progress(what)
    started = clock.now()
    while True:
        try:
            done, status = poll()
        except BaseException:
            progress.abandon()
            raise
        elapsed = clock.now() - started
        if done:
            progress.finish(status, elapsed)
            return status
        progress.update(status, elapsed)
        if elapsed >= timeout:
            progress.abandon()
            raise TimedOutError(what, status, elapsed)
        clock.sleep(max(0.0, min(interval, timeout - elapsed)))
