"""Claims about one of many near-identical documents, checked through a collection; JSON.

300 product sheets that differ only in model number and figures (the Vantor K-100 to K-399) are
indexed as a collection; for 40 of them, two true claims (weight, motor power) and two false ones
(another sheet's figures) are streamed through a real server on loopback: with the right sheet
sent as inline context; with it and three neighbours inline, as a retriever would return them
(the sheet whose figure the false claim takes first); and against the collection alone.
Reported per mode: true claims halted (and which), false claims halted, and verdicts whose first
evidence passage is the claim's own sheet. Found by an evidence review: searched by embeddings
alone, the collection often did not return the claim's sheet, and true claims halted against its
neighbours' figures; later, false claims passed on a neighbour's figure
(``stream_guard/evidence/scope.py``).

    python docs/results/catalog_retrieval.py --out docs/results/catalog-retrieval.json

(`git stash`-free comparison with an older commit: run this file from the working tree with
``PYTHONPATH`` set to a worktree of that commit.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from stream_guard.cli import main as cli
from stream_guard.config import load_settings
from stream_guard.eval.results import code_revision, machine_info, write_report
from stream_guard.server.app import Server

KEY = "catalog-bench-key-0001"


def catalog() -> list[dict[str, Any]]:
    rng = random.Random(7)
    rows = []
    for i in range(300):
        model = f"K-{100 + i}"
        kg = round(rng.uniform(2.0, 9.9), 1)
        litre = rng.choice([1.0, 1.2, 1.5, 1.8, 2.0])
        watt = rng.choice([600, 800, 1000, 1200, 1500])
        year = rng.randint(2012, 2023)
        rows.append({"id": model, "kg": kg, "watt": watt, "text": (
            f"The Vantor {model} blender was released in {year}. It weighs {kg} kg and has a "
            f"{litre} litre jar. Its motor is rated at {watt} watts. The {model} ships with a "
            "two-year warranty.")})
    return rows


def claims(rows: list[dict[str, Any]], n: int
           ) -> list[tuple[bool, str, dict[str, Any], list[dict[str, Any]]]]:
    """Per product: two true claims and two false ones (another sheet's weight and power), each
    with the sheets a retriever would also return: the one whose figure the false claim takes
    and two more."""
    rng = random.Random(3)
    out = []
    for r in rng.sample(rows, n):
        other = rng.choice([x for x in rows if x["kg"] != r["kg"] and x["watt"] != r["watt"]])
        near = [other, *rng.sample([x for x in rows if x is not r and x is not other], 2)]
        out += [(True, f"The Vantor {r['id']} weighs {r['kg']} kg. ", r, near),
                (True, f"The {r['id']} motor is rated at {r['watt']} watts. ", r, near),
                (False, f"The Vantor {r['id']} weighs {other['kg']} kg. ", r, near),
                (False, f"The {r['id']} motor is rated at {other['watt']} watts. ", r, near)]
    return out


async def stream(ws: ClientConnection, sid: str, text: str, **start: Any) -> list[dict[str, Any]]:
    await ws.send(json.dumps({"type": "start", "stream_id": sid, **start}))
    frames = [json.loads(await ws.recv())]
    for seq, i in enumerate(range(0, len(text), 5)):
        await ws.send(json.dumps({"type": "delta", "stream_id": sid, "seq": seq,
                                  "text": text[i:i + 5]}))
        await asyncio.sleep(0.012)  # under the default 200 messages/s
    await ws.send(json.dumps({"type": "end", "stream_id": sid}))
    while frames[-1]["type"] != "done":
        frames.append(json.loads(await ws.recv()))
    return frames


async def measure(data_dir: Path, cache_dir: Path, n: int) -> dict[str, Any]:
    rows = catalog()
    settings = load_settings(environ={}, port=0, api_keys={KEY: "bench"}, data_dir=data_dir,
                             cache_dir=cache_dir)
    server = Server(settings)
    await server.start()
    await server.wait_ready()
    out: dict[str, Any] = {}
    try:
        async with connect(f"ws://127.0.0.1:{server.port}/v1/stream",
                           additional_headers={"Authorization": f"Bearer {KEY}"}) as ws:
            for mode in ("context", "context_with_neighbours", "collection"):
                counts = {"true_claims": 0, "true_halted": 0, "false_claims": 0,
                          "false_halted": 0, "own_sheet_cited_first": 0}
                wrongly: list[dict[str, Any]] = []
                for k, (true, text, r, near) in enumerate(claims(rows, n)):
                    sheets = [r] if mode == "context" else [*near[:1], r, *near[1:]]
                    start = ({"collection": "catalog"} if mode == "collection" else
                             {"context": [{"id": x["id"], "text": x["text"]} for x in sheets]})
                    frames = await stream(ws, f"{mode}-{k}", text, **start)
                    halted = any(f["type"] == "halt" for f in frames)
                    kind = "true" if true else "false"
                    counts[f"{kind}_claims"] += 1
                    counts[f"{kind}_halted"] += halted
                    if true and halted:
                        halt = next(f for f in frames if f["type"] == "halt")
                        wrongly.append({"claim": text.strip(), "reason": halt.get("reason"),
                                        "evidence": [e["id"] for e in halt.get("evidence", [])]})
                    verdict = next(f for f in frames if f["type"] == "verdict")
                    cited = verdict["evidence"][0]["id"] if verdict["evidence"] else ""
                    counts["own_sheet_cited_first"] += cited.split("#")[0].endswith(r["id"])
                out[mode] = {**counts, "true_claims_halted": wrongly}
    finally:
        await server.shutdown(grace=1.0)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--products", type=int, default=40,
                   help="products claimed about (4 claims each)")
    args = p.parse_args()
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "catalog.jsonl"
        docs.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n"
                                for r in catalog()))
        data_dir, cache_dir = Path(tmp) / "data", load_settings(environ={}).cache_dir
        assert cli(["index", "add", "--data-dir", str(data_dir), "--tenant", "bench",
                    "--collection", "catalog", "--no-progress", str(docs)]) == 0
        result = asyncio.run(measure(data_dir, cache_dir, args.products))
    result.update({
        "code": code_revision(),
        "command": f"python docs/results/catalog_retrieval.py --out {args.out}",
        "machine": machine_info(),
        "elapsed_s": round(time.time() - started, 1)})
    write_report(args.out, result)


if __name__ == "__main__":
    main()
