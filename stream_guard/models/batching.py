"""Length-sorted micro-batches.

Transformer cost grows with the padded length of a batch, so grouping inputs of similar length
(after sorting) cuts padding; the batch bound keeps peak memory and latency per call in check.
Results are put back in the caller's order, so the batching is invisible outside.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
    """Indices into ``lengths``, shortest first, in chunks of at most ``batch_size``."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    for start in range(0, len(order), batch_size):
        yield order[start:start + batch_size]
