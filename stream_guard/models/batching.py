"""Length-sorted micro-batches.

Transformer cost grows with the padded length of a batch, so grouping inputs of similar length
(after sorting) cuts padding; the batch bound keeps peak memory and latency per call in check.
Results are put back in the caller's order, so the batching is invisible outside.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence


def length_sorted_batches(lengths: Sequence[int], batch_size: int, *,
                          max_growth: float | None = None) -> Iterator[list[int]]:
    """Indices into ``lengths``, shortest first, in chunks of at most ``batch_size``; with
    ``max_growth``, a chunk also ends before an input that many times as long as its first
    (one-word answers and the questions searched with them, embedded together, padded every
    answer to the longest question: half the batch's time was padding)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    batch: list[int] = []
    for i in order:
        if batch and (len(batch) == batch_size or (max_growth is not None
                      and lengths[i] > max_growth * lengths[batch[0]])):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch
