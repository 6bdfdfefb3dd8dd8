"""Tokenising single texts and (premise, hypothesis) pairs into padded int64 batches.

The ``tokenizer.json`` of a saved model often carries the padding/truncation it was exported with
(MiniLM's pads every input to 128). Both are switched off and done here instead: padding to the
longest sequence of a length-sorted batch is what keeps CPU inference cheap, and pairs must be
truncated on the premise side only, since cutting the hypothesis would judge a different claim.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from tokenizers import Encoding, Tokenizer

from stream_guard.models.hf import ModelFormatError

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class TokenBatch:
    """Model inputs for one batch, all ``[batch, seq]`` int64 (the dtype exported graphs take)."""

    input_ids: IntArray
    attention_mask: IntArray
    token_type_ids: IntArray

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])


class TextTokenizer:
    """A fast tokenizer with stream-guard's truncation rules; thread-safe for encoding."""

    def __init__(self, tokenizer_file: Path, *, max_length: int, pad_token_id: int = 0,
                 token_types: bool = True) -> None:
        """``token_types=False`` sends all-zero segment ids, for models with a single segment
        embedding (RoBERTa) whatever the tokenizer's pair template says."""
        # One handle per truncation rule, so settings are never changed on a tokenizer another
        # thread is encoding with.
        self._raw_tok = _load(tokenizer_file)
        self._single_tok = _load(tokenizer_file)
        self._single_tok.enable_truncation(max_length)
        self._pair_tok = _load(tokenizer_file)
        self._pair_tok.enable_truncation(max_length, strategy="only_first")
        self.max_length = max_length
        self.pad_token_id = pad_token_id
        self._token_types = token_types
        self._special_pair = self._raw_tok.num_special_tokens_to_add(True)

    def save(self, path: Path) -> None:
        """Write ``tokenizer.json`` with neither padding nor truncation set: both are this
        class's rules, applied wherever the file is loaded."""
        self._raw_tok.save(str(path))

    def encode(self, texts: Sequence[str]) -> list[Encoding]:
        return list(self._single_tok.encode_batch(list(texts)))

    def encode_pairs(self, premises: Sequence[str], hypotheses: Sequence[str],
                     contexts: Sequence[str] | None = None) -> list[Encoding]:
        """Encode pairs, cutting the premise to fit; a hypothesis too long even alone is cut too
        (keeping room for a few premise tokens), since the model cannot see past its length.
        A ``context`` (the text before the window) goes in front of its hypothesis with what
        the hypothesis leaves of that room, at most a third of it, cut from its start: the
        claim itself is never the part dropped for it, nor most of the premise."""
        budget = max(1, self.max_length - self._special_pair - 8)
        fitted = list(hypotheses)
        room = [0] * len(fitted)
        for i, enc in enumerate(self._raw_tok.encode_batch(fitted, add_special_tokens=False)):
            if len(enc.ids) > budget:
                fitted[i] = fitted[i][: enc.offsets[budget - 1][1]]
            room[i] = max(0, min(budget // 3, budget - len(enc.ids) - 1))  # 1: the join
        if contexts is not None:
            encoded = self._raw_tok.encode_batch(list(contexts), add_special_tokens=False)
            for i, (context, enc) in enumerate(zip(contexts, encoded, strict=True)):
                if not context or not room[i]:
                    continue
                if len(enc.ids) > room[i]:
                    context = context[enc.offsets[len(enc.ids) - room[i]][0]:]
                fitted[i] = f"{context} {fitted[i]}"
        return list(self._pair_tok.encode_batch(list(zip(premises, fitted, strict=True))))

    def pad(self, encodings: Sequence[Encoding]) -> TokenBatch:
        width = max((len(e.ids) for e in encodings), default=0)
        n = len(encodings)
        ids = np.full((n, width), self.pad_token_id, dtype=np.int64)
        mask = np.zeros((n, width), dtype=np.int64)
        types = np.zeros((n, width), dtype=np.int64)
        for row, enc in enumerate(encodings):
            length = len(enc.ids)
            ids[row, :length] = enc.ids
            mask[row, :length] = 1
            if self._token_types:
                types[row, :length] = enc.type_ids
        return TokenBatch(ids, mask, types)


def _load(tokenizer_file: Path) -> Tokenizer:
    try:
        tok = Tokenizer.from_file(str(tokenizer_file))
    except Exception as exc:  # tokenizers raises a bare Exception on bad files
        raise ModelFormatError(f"{tokenizer_file}: not a fast-tokenizer file ({exc})") from exc
    tok.no_padding()
    tok.no_truncation()
    return tok
