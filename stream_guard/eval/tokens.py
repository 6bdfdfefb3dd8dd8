"""Cut a response into the pieces an LLM would emit it in.

The halt latency and the windowing the server sees depend on how text arrives, so the replay
should look like real model output: word-sized pieces carrying their leading space, punctuation on
its own, long words in sub-word pieces, line breaks apart. A regular expression is enough for that;
a real tokenizer would only change where a few long words are cut. The pieces always concatenate
back to the exact input, so character offsets in server frames are offsets into the response.
"""

from __future__ import annotations

import re

# Words and punctuation take the spaces/tabs before them; line breaks (and any whitespace left
# at the end) form pieces of their own. Every character matches one alternative, so finditer
# leaves no gaps.
_PIECE = re.compile(r"[ \t]*(?:\w+|[^\w\s])|\s+")

LONG_WORD = 8  # longer words are emitted in sub-word pieces
SUBWORD = 4  # sub-word piece length; the last piece takes a short tail (3 to 6 characters)


def split_tokens(text: str) -> list[str]:
    """Token-like pieces of ``text`` whose concatenation is ``text``."""
    pieces: list[str] = []
    for match in _PIECE.finditer(text):
        pieces.extend(_subwords(match.group()))
    return pieces


def _subwords(piece: str) -> list[str]:
    word = piece.lstrip(" \t")
    if len(word) <= LONG_WORD:  # short words, and punctuation (always one character)
        return [piece]
    lead = piece[: len(piece) - len(word)]
    cuts = list(range(0, len(word), SUBWORD))
    if len(word) - cuts[-1] < 3:
        cuts.pop()  # a 1-2 character tail joins the piece before it
    parts = [word[a:b] for a, b in zip(cuts, [*cuts[1:], len(word)], strict=True)]
    parts[0] = lead + parts[0]
    return parts
