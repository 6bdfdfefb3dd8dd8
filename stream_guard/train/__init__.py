"""Training the default detector: ``python -m stream_guard.train --data DIR --out DIR``."""

from stream_guard.train.cli import main

__all__ = ["main"]
