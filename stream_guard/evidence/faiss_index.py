"""FAISS indexes over unit vectors: exact inner product for small collections, HNSW beyond.

Exact search is cheap up to tens of thousands of chunks and has no recall loss; past
``index_flat_max`` an HNSW graph keeps search in the sub-millisecond range at a small recall cost.
Flat indexes move to the GPU when faiss was built with GPU support and a GPU is present (faiss
has no GPU HNSW, so those stay on the CPU).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Literal

import faiss
import numpy as np
import numpy.typing as npt

IndexKind = Literal["flat", "hnsw"]
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 128
HNSW_LEVEL_SEED = 12345  # faiss's own
_random_generator: Any = faiss.RandomGenerator  # type: ignore[attr-defined]
# One set of GPU resources (streams, scratch memory) per process, as faiss recommends; it must
# outlive every index moved to the GPU, so it is never freed.
_gpu_resources: Any = None
# One use at a time of faiss's GPU resources, which are not safe to use from several threads
# at once: a search (the model's instances search from threads of their own) or a load.
_gpu_use = threading.Lock()


def build_index(vectors: npt.NDArray[np.float32], flat_max: int) -> tuple[Any, IndexKind]:
    """An index holding ``vectors`` (row i gets id i), its kind chosen by count."""
    n, dim = vectors.shape
    kind: IndexKind = "flat" if n <= flat_max else "hnsw"
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    else:
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    if n:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, kind


def extend_or_build(live: Any | None, vectors: npt.NDArray[np.float32], kept: int,
                    flat_max: int) -> tuple[Any, IndexKind]:
    """The index of a collection's next version, whose first ``kept`` vectors are the live
    version's, in order (``live``: its index, or None when rows were dropped or renumbered).

    Past ``flat_max`` the index is an HNSW graph, and building it is what an add to a large
    collection costs (every chunk inserted again: 12-15 s for 55,000 on two cores). HNSW
    is built one vector at a time anyway, so when the live graph holds exactly the kept rows
    the new vectors are inserted into it instead: an append costs its own chunks. A flat index
    is a copy of the vectors and is simply built.
    """
    n = len(vectors)
    if (live is not None and n > flat_max and isinstance(live, faiss.IndexHNSW)
            and live.ntotal == kept and live.d == vectors.shape[1]):
        live.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        # faiss seeds the level generator afresh (12345) whenever it reads an index, so every
        # append would draw the same levels, the first ones all 0, and the upper layers would
        # stop growing: seed it by the graph's size instead.
        graph: Any = live.hnsw  # (faiss's type stubs lack the generator)
        graph.rng = _random_generator(HNSW_LEVEL_SEED + kept)
        if n > kept:
            live.add(np.ascontiguousarray(vectors[kept:], dtype=np.float32))
        return live, "hnsw"
    return build_index(vectors, flat_max)


def prepare_for_search(index: Any, *, use_gpu: bool | None = None) -> Any:
    """Tune a loaded index for queries, on the GPU when possible (``use_gpu=None``: auto)."""
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_EF_SEARCH
        return index
    if use_gpu is False or not gpu_available():
        return index
    global _gpu_resources
    with _gpu_use:  # the poll thread loads while the scoring threads search (a review)
        if _gpu_resources is None:
            _gpu_resources = faiss.StandardGpuResources()
        return faiss.index_cpu_to_gpu(_gpu_resources, 0, index)


def set_search_threads(threads: int) -> None:
    """faiss's OpenMP threads for the whole process.

    A server runs many small searches at once from different threads; OpenMP workers
    busy-waiting on a shared, busy CPU made a single 10k-chunk query about 5x slower with two
    threads than with one (measured on the 2-core dev machine). Builds want every core instead,
    so this is left to the process that only serves.
    """
    faiss.omp_set_num_threads(threads)


def gpu_available() -> bool:
    return hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def search(index: Any, queries: npt.NDArray[np.float32],
           k: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """(scores, ids) ``[n, k]``; ids are -1 where the index has fewer than ``k`` entries."""
    if index.ntotal == 0 or k < 1:
        n = len(queries)
        return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
    on_gpu = hasattr(faiss, "GpuIndex") and isinstance(index, faiss.GpuIndex)
    with _gpu_use if on_gpu else contextlib.nullcontext():
        scores, ids = index.search(np.ascontiguousarray(queries, dtype=np.float32),
                                   min(k, index.ntotal))
    return scores, ids
