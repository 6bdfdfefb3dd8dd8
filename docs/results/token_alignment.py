"""A BERTScore-style reading of SummEdits, measured and not kept (forty-eighth session): each
summary token's best cosine with its document's tokens (all-MiniLM-L6-v2's hidden states of
layers 3, 4 and 6, documents in 256-token pieces with a stride of 200), and per record the
mean, the least over content tokens and the mean of the two least; stream AUROC of each (low
alignment = edited) on ``summedits_train`` and on SummEdits-dev's tune half (never the
holdout), beside the shipped detector's least window score from per-record files of the same
records (``stream-guard eval FILE --per-record P``); JSON. Needs torch and transformers:

    python docs/results/token_alignment.py --data ../shared/data/dev \\
        --per-record DEV.per.jsonl TRAIN.per.jsonl --out docs/results/token-alignment.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from stream_guard.dataset import assign_splits, read_records
from stream_guard.eval.metrics import auroc
from stream_guard.eval.results import machine_info, results_parser, write_report
from stream_guard.models.packaged import minilm_dir

LAYERS = (3, 4, 6)
_STOP_WORDS = ("the a an of to in and or for on at by with from is are was were be been it its "
               "this that as has have had will would can could not no he she they we you i his "
               "her their our")
STOP = frozenset(_STOP_WORDS.split())


def main(argv: list[str] | None = None) -> int:
    parser = results_parser(__doc__)
    parser.add_argument("--per-record", nargs="+", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/token-alignment-cache"))
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    model_dir = minilm_dir(args.cache_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir, output_hidden_states=True).eval()

    def embed(text: str) -> tuple[dict[int, np.ndarray], list[int]]:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        starts = list(range(0, max(1, len(ids) - 56), 200)) if len(ids) > 254 else [0]
        out: dict[int, list[np.ndarray]] = {layer: [] for layer in LAYERS}
        kept: list[int] = []
        for start in starts:
            piece = ids[start:start + 254]
            with torch.no_grad():
                states = model(input_ids=torch.tensor(
                    [[tok.cls_token_id, *piece, tok.sep_token_id]])).hidden_states
            for layer in LAYERS:
                out[layer].append(torch.nn.functional.normalize(
                    states[layer][0, 1:-1], dim=-1).numpy())
            kept += piece
        return {layer: np.concatenate(v) for layer, v in out.items()}, kept

    detector = {}
    for path in args.per_record:
        for line in path.open():
            row = json.loads(line)
            detector[row["id"]] = row["min_score"]
    report: dict[str, object] = {"command": " ".join(sys.argv), "layers": list(LAYERS)}
    for name, split in (("summedits_train", None), ("summedits_dev", "tune")):
        records = read_records(args.data / f"{name}.jsonl")
        sides = assign_splits(records)
        rows, labels, scores = [], [], []
        document: tuple[str, tuple[dict[int, np.ndarray], list[int]]] | None = None
        for r in records:
            if split and sides[r.split_key] != split:
                continue
            if document is None or document[0] != r.context:
                document = (r.context, embed(r.context))
            doc, _ = document[1]
            summary, ids = embed(r.response)
            content = np.array([(t.isalnum() and t.lower() not in STOP) or t.startswith("##")
                                for t in tok.convert_ids_to_tokens(ids)])
            features = {}
            for layer in LAYERS:
                best = (summary[layer] @ doc[layer].T).max(1)
                low = np.sort(best[content]) if content.any() else np.array([1.0])
                features[f"mean{layer}"] = float(best.mean())
                features[f"min{layer}"] = float(low[0])
                features[f"low2_{layer}"] = float(low[:2].mean())
            rows.append(features)
            labels.append(r.label)
            scores.append(detector[r.id])
        report[name] = {
            "records": len(rows), "edited": int(sum(labels)),
            "auroc": {k: round(auroc([-row[k] for row in rows], labels) or 0.0, 3)
                      for k in rows[0]},
            "detector_auroc": round(auroc([-s for s in scores], labels) or 0.0, 3)}
    report["machine"] = machine_info()
    write_report(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
