"""Moving checkpoints to and from the lent GPU machine, whose calls carry at most 64 MiB.

How the 2026-11-30 GPU round (docs/quality.md) got MPNet and the MiniLM student there and the
results back; not part of the product.

    pack SRC DST --mode teacher|student --chunk-mb N
        teacher: every 2-D weight of >= 65,536 values as int8 with a per-row absmax scale, the
        rest fp32 (438 MB -> 98 MB; the hidden states of the round trip keep a cosine of 0.998
        with the original's). student: the frozen word embeddings as int8, the rest fp16.
        Written as N-MB parts of one compressed npz.
    unpack SRC DST    join the parts, write fp32 model.safetensors (+ config, tokenizer)
    split CKPT DST    a trained student less its word embeddings, fp16, in <= 15 MB files
    restore BASE DST PARTS...
        the student as trained there: BASE packed and unpacked as a student (so the word
        embeddings are the same int8 round trip it trained with), the trained parts on top
"""

from __future__ import annotations

import glob
import io
import os
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

SIDE_FILES = ("config.json", "tokenizer.json")


def q8(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = np.abs(w).max(axis=1, keepdims=True).astype(np.float32) / 127.0
    scale[scale == 0] = 1.0
    return np.round(w / scale).clip(-127, 127).astype(np.int8), scale


def packed(src: str, mode: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for k, w in load_file(os.path.join(src, "model.safetensors")).items():
        w = w.astype(np.float32)
        as_int8 = (mode == "teacher" and w.ndim == 2 and w.size >= 65536) or (
            mode == "student" and k.endswith("word_embeddings.weight"))
        if as_int8:
            out[k + "|q8"], out[k + "|scale"] = q8(w)
        elif mode == "student":
            out[k + "|f16"] = w.astype(np.float16)
        else:
            out[k + "|f32"] = w
    return out


def unpacked(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for k, v in arrays.items():
        name, kind = k.rsplit("|", 1)
        if kind == "q8":
            out[name] = v.astype(np.float32) * arrays[name + "|scale"]
        elif kind in ("f16", "f32"):
            out[name] = v.astype(np.float32)
    return out


def copy_side_files(src: str, dst: str) -> None:
    for f in SIDE_FILES:
        if os.path.exists(os.path.join(src, f)):
            shutil.copy(os.path.join(src, f), os.path.join(dst, f))


def main(argv: list[str]) -> None:
    cmd = argv[0]
    if cmd == "pack":
        src, dst, mode, mb = argv[1], argv[2], argv[4], float(argv[6])
        os.makedirs(dst, exist_ok=True)
        buf = io.BytesIO()
        np.savez_compressed(buf, **packed(src, mode))  # type: ignore[arg-type]
        data, size = buf.getvalue(), int(mb * 1e6)
        for i in range(0, len(data), size):
            with open(os.path.join(dst, f"part{i // size:02d}"), "wb") as fh:
                fh.write(data[i:i + size])
        copy_side_files(src, dst)
        print(f"{len(data) / 1e6:.1f} MB in {-(-len(data) // size)} parts")
    elif cmd == "unpack":
        src, dst = argv[1], argv[2]
        os.makedirs(dst, exist_ok=True)
        parts = sorted(glob.glob(os.path.join(src, "part*")))
        data = b"".join(Path(p).read_bytes() for p in parts)
        weights = unpacked(dict(np.load(io.BytesIO(data))))
        save_file(weights, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
        copy_side_files(src, dst)
    elif cmd == "split":
        src, dst = argv[1], argv[2]
        os.makedirs(dst, exist_ok=True)
        w = {k: v.astype(np.float16)
             for k, v in load_file(os.path.join(src, "model.safetensors")).items()
             if not k.endswith("word_embeddings.weight")}
        part: dict[str, np.ndarray] = {}
        size = n = 0
        for k in sorted(w):
            if size + w[k].nbytes > 15e6 and part:
                save_file(part, os.path.join(dst, f"student{n}.safetensors"))
                part, size, n = {}, 0, n + 1
            part[k] = w[k]
            size += w[k].nbytes
        save_file(part, os.path.join(dst, f"student{n}.safetensors"))
    elif cmd == "restore":
        base, dst, trained = argv[1], argv[2], argv[3:]
        weights = unpacked(packed(base, "student"))
        for t in trained:
            weights.update({k: v.astype(np.float32) for k, v in load_file(t).items()})
        os.makedirs(dst, exist_ok=True)
        save_file(weights, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
        copy_side_files(base, dst)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
