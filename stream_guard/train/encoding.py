"""How a (premise, hypothesis) pair becomes model input, shared by training, export and eval.

One tokenizer object, configured once, is both used for training and shipped with the detector, so
the server cannot format pairs differently from how the model learnt them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer

MAX_LENGTH = 128
PAIR_FORMAT = "[CLS] premise (focused evidence sentences) [SEP] hypothesis (window) [SEP]"

Batch = dict[str, NDArray[np.int64]]


def pair_tokenizer(tokenizer_json: Path, max_length: int = MAX_LENGTH) -> Tokenizer:
    """The backbone's tokenizer set up for pairs: longest-first truncation (the premise is
    the longer side, so it is the one cut) and no fixed padding (batches pad to their longest)."""
    tok = Tokenizer.from_file(str(tokenizer_json))
    tok.no_padding()
    tok.enable_truncation(max_length=max_length, strategy="longest_first")
    return tok


def encode_pairs(tok: Tokenizer, pairs: Sequence[tuple[str, str]]) -> Batch:
    """Token ids, mask and segment ids for a batch, padded to the batch's longest pair."""
    encodings = tok.encode_batch([(p, h) for p, h in pairs])
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        ids[row, :n] = enc.ids
        mask[row, :n] = enc.attention_mask
        types[row, :n] = enc.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def length_order(tok: Tokenizer, pairs: Sequence[tuple[str, str]]) -> list[int]:
    """Indices sorted by token length, so inference batches carry little padding."""
    lengths = [len(e.ids) for e in tok.encode_batch([(p, h) for p, h in pairs])]
    return sorted(range(len(pairs)), key=lengths.__getitem__)
