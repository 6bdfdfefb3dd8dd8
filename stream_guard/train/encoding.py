"""How a (premise, hypothesis) pair becomes model input in training, export and eval: the
server's own :class:`~stream_guard.models.tokenization.TextTokenizer`, set up from the model
directory as the server sets it up.

Training once had its own encoder (longest-first truncation): a long window lost half its
tokens to the premise's benefit there, while the server cuts the premise and keeps the claim,
so the model learnt pairs shaped otherwise than those it is served (a review measured a
269-character window: 64 premise and 64 window tokens in training, 10 and 118 when served).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tokenizers import Encoding

from stream_guard.models.hf import open_model_dir
from stream_guard.models.tokenization import TextTokenizer

MAX_LENGTH = 128
PAIR_FORMAT = "[CLS] premise (focused evidence sentences) [SEP] hypothesis (window) [SEP]"
TRUNCATION = ("only_first: the premise is cut, never the claim (a window too long even alone "
              "is cut to leave the premise a few tokens), as the server encodes pairs")

Batch = dict[str, NDArray[np.int64]]


def pair_tokenizer(model_dir: Path, max_length: int = MAX_LENGTH) -> TextTokenizer:
    """The tokenizer of the model in ``model_dir`` (config.json and tokenizer.json), with the
    padding id and segment ids the server would give it."""
    model = open_model_dir(model_dir, need_weights=False)
    return TextTokenizer(model.tokenizer_file, max_length=max_length,
                         pad_token_id=model.pad_token_id, token_types=model.token_types)


def encode_pairs(tok: TextTokenizer, pairs: Sequence[tuple[str, str]]) -> Batch:
    """Token ids, mask and segment ids for a batch, padded to the batch's longest pair."""
    return padded(tok, pair_encodings(tok, pairs))


def pair_encodings(tok: TextTokenizer, pairs: Sequence[tuple[str, str]]) -> list[Encoding]:
    """Each pair encoded, unpadded: their lengths order batches
    (:func:`~stream_guard.models.batching.length_sorted_batches`), and any subset is padded
    into one with :func:`padded`, with no second encoding."""
    return tok.encode_pairs([p for p, _ in pairs], [h for _, h in pairs])


def padded(tok: TextTokenizer, encodings: Sequence[Encoding]) -> Batch:
    batch = tok.pad(encodings)
    return {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask,
            "token_type_ids": batch.token_type_ids}
