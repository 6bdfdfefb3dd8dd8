"""The evidence collection a ``--collection`` load test's streams name.

Streams that name a collection instead of sending their context cost the server more than inline
ones: every window is embedded and searched in a FAISS index of many documents before it is
scored. To measure that path the spawned server gets a data directory whose collection holds
every context the generator builds streams from, indexed by the operator's own command
(``stream-guard index add``), so retrieval has to find each stream's paragraph among all of them.

Indexing a corpus takes minutes on a small machine, and ``loadtest.capacity`` spawns a server per
probe, so the directory is kept and reused while the contexts, the code and the embedding
settings are the same (a digest of them names it).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson

from stream_guard.eval.results import code_revision

TENANT = "loadtest"  # the tenant of the key a spawned server is given
COLLECTION = "loadtest"
_DONE = "indexed.json"  # written last: a directory without it was cut off and is rebuilt


def kb_dir(paragraphs: Sequence[str], server_env: Mapping[str, str],
           root: Path | None = None) -> Path:
    """Where the collection of these contexts is kept: under ``root`` (default: the system's
    temporary directory), named by a digest of the contexts, the code's revision and the
    server's ``STREAM_GUARD_*`` settings (the embedder and chunk sizes decide what is indexed)."""
    digest = hashlib.sha256()
    for part in (code_revision() or "", *sorted(f"{k}={v}" for k, v in server_env.items()),
                 *paragraphs):
        digest.update(part.encode("utf-8") + b"\0")
    base = root if root is not None else Path(tempfile.gettempdir())
    return base / f"stream-guard-loadtest-kb-{digest.hexdigest()[:16]}"


def ensure_collection(paragraphs: Sequence[str], data_dir: Path) -> dict[str, object]:
    """Index ``paragraphs`` (one document each, duplicates once) as :data:`COLLECTION` of
    :data:`TENANT` in ``data_dir`` unless a finished run already did; what was indexed, as
    recorded when it was built. The indexer runs with this environment's ``STREAM_GUARD_*``
    settings, which the spawned server inherits: it embeds with the model the server searches
    with."""
    done = data_dir / _DONE
    if done.exists():
        info: dict[str, object] = orjson.loads(done.read_bytes())
        return info
    documents = list(dict.fromkeys(paragraphs))
    data_dir.mkdir(parents=True, exist_ok=True)
    source = data_dir / "contexts.jsonl"
    source.write_bytes(b"".join(
        orjson.dumps({"id": f"context-{i}", "text": text}) + b"\n"
        for i, text in enumerate(documents)))
    command = [sys.executable, "-m", "stream_guard", "index", "add", "--tenant", TENANT,
               "--collection", COLLECTION, "--no-progress", str(source)]
    proc = subprocess.run(command, env={**os.environ, "STREAM_GUARD_DATA_DIR": str(data_dir)},
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"loadtest: indexing the corpus failed ({proc.returncode}):\n"
                         f"{proc.stderr.strip()}")
    info = {"data_dir": str(data_dir), "documents": len(documents),
            "index_add": proc.stdout.strip()}
    done.write_bytes(orjson.dumps(info))
    return info
