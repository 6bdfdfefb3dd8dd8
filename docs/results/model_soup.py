"""Average the weights of fine-tuned checkpoints of one initialisation (a uniform "model soup",
Wortsman et al. 2022) into a work directory's ``best/``, for the trainer to export and measure.

Soups of fine-tunings from one start often rank better on unseen data than any one of them, at no
serving cost. The checkpoints are ``best/`` directories of training stages (or ``init-from-onnx``,
the weights ``--init-from`` recovers from a shipped detector); the tokenizer and config of the
last are kept. Then export and measure as any stage (``--force``: the shipped detector stays):

    python docs/results/model_soup.py W/soup W4/init-from-onnx W4/best W5/best
    python -m stream_guard.train --data ../shared/data/dev --work-dir W/soup --out W/soup-out \\
        --detector-version soup --force
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("work_dir", type=Path, help="the soup's work dir (its best/ is written)")
    p.add_argument("checkpoints", type=Path, nargs="+", help="checkpoint dirs to average")
    args = p.parse_args()
    states = [load_file(str(c / "model.safetensors")) for c in args.checkpoints]
    if any(s.keys() != states[0].keys() for s in states):
        raise SystemExit("the checkpoints do not share one architecture")
    soup = {k: torch.stack([s[k].float() for s in states]).mean(0).to(states[0][k].dtype)
            for k in states[0]}
    best = args.work_dir / "best"
    best.mkdir(parents=True, exist_ok=True)
    save_file(soup, str(best / "model.safetensors"), metadata={"format": "pt"})
    for name in ("config.json", "tokenizer.json"):
        if (args.checkpoints[-1] / name).is_file():
            shutil.copy(args.checkpoints[-1] / name, best / name)
    print(f"{len(states)} checkpoints averaged into {best}")


if __name__ == "__main__":
    main()
