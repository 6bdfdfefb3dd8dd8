"""Progress for long ingests: tqdm when it is installed, else a plain line on stderr.

tqdm is not a dependency; an ingest of a large folder should still show it is alive.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any


class Progress:
    """``with Progress(total, "embedding") as bar: bar.update(n)``."""

    def __init__(self, total: int, desc: str, *, enabled: bool = True) -> None:
        self._total = total
        self._desc = desc
        self._done = 0
        self._last_print = 0.0
        self._bar: Any = None
        self._enabled = enabled
        if enabled:
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self._bar = tqdm(total=total, desc=desc, unit="chunk", file=sys.stderr)

    def update(self, n: int) -> None:
        self._done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._enabled and time.monotonic() - self._last_print >= 1.0:
            self._print()

    def _print(self) -> None:
        self._last_print = time.monotonic()
        pct = 100.0 * self._done / self._total if self._total else 100.0
        print(f"{self._desc}: {self._done}/{self._total} ({pct:.0f}%)", file=sys.stderr,
              flush=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._enabled and exc is None:
            self._print()
