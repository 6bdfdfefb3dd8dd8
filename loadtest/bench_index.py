r"""What adding to an evidence collection costs as it grows; JSON.

Every ``index add`` publishes a whole new version of the collection (readers keep the old one
until the new one is complete), so besides embedding the new chunks it copies the document
store, rebuilds the full-text index and rebuilds the vector index over every chunk. This
measures those costs at growing sizes, with the real embedder: the collection is filled with
synthetic product sheets (one chunk each) up to each size, then one document is added and one
replaced, each timed end to end through ``add_documents`` (the code ``stream-guard index add``
runs, without its model load), and the parts timed alone on that version's files: the
full-text rebuild (SQLite FTS5), the vector index build (flat up to ``index_flat_max``, HNSW
past it) and a keyword + vector search of one window.

    python -m loadtest.bench_index --sizes 1000,10000,60000 \
        --out loadtest/results/v9/bench-index.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from stream_guard.config import load_settings
from stream_guard.eval.results import code_revision, machine_info, write_report
from stream_guard.evidence.faiss_index import build_index
from stream_guard.evidence.ingest import Document
from stream_guard.evidence.reader import Collection
from stream_guard.evidence.store import DOCS_FILE, VECTORS_FILE, VersionInfo, add_documents
from stream_guard.models.embedder import load_embedder

TENANT, NAME = "bench", "catalog"
BATCH = 2000  # documents per fill step: a fill is many adds, as an operator's would be


def sheet(i: int) -> Document:
    rng = random.Random(i)
    model = f"K-{1000 + i}"
    text = (f"The Vantor {model} {rng.choice(['blender', 'kettle', 'toaster', 'mixer'])} was "
            f"released in {rng.randint(2005, 2024)}. It weighs {rng.uniform(1, 9):.1f} kg and "
            f"draws {rng.choice([600, 800, 1000, 1200, 1500])} watts. The {model} ships with a "
            f"{rng.randint(1, 5)}-year warranty and a {rng.choice(['steel', 'glass', 'plastic'])}"
            " body.")
    return Document(id=model, text=text, source=model, metadata={})


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def measure_size(data_dir: Path, embedder: Any, flat_max: int, size: int) -> dict[str, Any]:
    cdir = data_dir / TENANT / NAME
    _, append_s = timed(lambda: add_documents(data_dir, TENANT, NAME, [sheet(size)], embedder,
                                              index_flat_max=flat_max))
    changed = sheet(0)
    changed = Document(changed.id, f"{changed.text} {size} of them were sold.", changed.source,
                       {})
    _, replace_s = timed(lambda: add_documents(data_dir, TENANT, NAME, [changed], embedder,
                                               index_flat_max=flat_max))
    info = VersionInfo.read(cdir)
    assert info is not None
    live = cdir / info.dir
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / DOCS_FILE
        shutil.copy(live / DOCS_FILE, copy)
        with sqlite3.connect(copy) as db:
            _, fts_s = timed(lambda: db.execute(
                "INSERT INTO chunks_fts (chunks_fts) VALUES ('rebuild')"))
    vectors = np.load(live / VECTORS_FILE)
    (_, kind), index_s = timed(lambda: build_index(vectors, flat_max))
    collection = Collection.open(data_dir, TENANT, NAME)
    window = f"The Vantor K-{1000 + size // 2} weighs 4.2 kg."
    query = embedder.embed([window])
    searches = []
    for _ in range(20):
        _, s = timed(lambda: collection.search(query, 3, [window]))
        searches.append(s)
    return {"chunks": info.count, "index_kind": kind,
            "add_one_document_s": round(append_s, 3),
            "replace_one_document_s": round(replace_s, 3),
            "fulltext_rebuild_s": round(fts_s, 3), "vector_index_build_s": round(index_s, 3),
            "search_ms_p50": round(1000 * float(np.median(searches)), 3),
            "docs_sqlite_mb": round((live / DOCS_FILE).stat().st_size / 2**20, 1),
            "vectors_mb": round((live / VECTORS_FILE).stat().st_size / 2**20, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000,60000",
                   help="collection sizes (chunks) to measure at, ascending")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    settings = load_settings()
    embedder = load_embedder("minilm", cache_dir=settings.cache_dir)
    load_before = os.getloadavg()
    code = code_revision()  # at the start: the code this run imported
    started = time.time()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        filled = 0
        fill_s = 0.0
        for size in sizes:
            while filled < size:
                batch = [sheet(i) for i in range(filled, min(size, filled + BATCH))]
                _, s = timed(lambda b=batch: add_documents(
                    data_dir, TENANT, NAME, b, embedder, index_flat_max=settings.index_flat_max))
                fill_s += s
                filled += len(batch)
            row = measure_size(data_dir, embedder, settings.index_flat_max, size)
            row["fill_chunks_per_s"] = round(filled / fill_s, 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
            filled += 1  # the document measure_size added
    result = {
        "sizes": rows,
        "index_flat_max": settings.index_flat_max,
        "embedder": embedder.name,
        "code": code,
        "command": f"python -m loadtest.bench_index --sizes {args.sizes} --out {args.out}",
        "machine": machine_info(),
        "loadavg_start": load_before, "loadavg_end": os.getloadavg(),
        "elapsed_s": round(time.time() - started, 1)}
    write_report(args.out, result)


if __name__ == "__main__":
    main()
