"""Sentence boundaries for claim windows.

Contract used across the package: ``sentence_spans(text)`` returns ``(start, end)`` character
offsets of each sentence, whitespace trimmed, in order. The incremental segmenter used by live
streams must agree with it on text that has fully arrived.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in _BOUNDARY.finditer(text):
        _append(text, pos, match.start(), spans)
        pos = match.end()
    _append(text, pos, len(text), spans)
    return spans


def _append(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


from dataclasses import dataclass  # noqa: E402  TEMPORARY


@dataclass(frozen=True)
class Window:
    index: int
    start: int
    end: int
    text: str
    previous: str
    kind: str = "text"


class WindowSegmenter:
    def __init__(self, max_chars: int = 400, min_chars: int = 12) -> None:
        self.buf = ""
        self.offset = 0
        self.index = 0
        self.prev = ""

    def feed(self, text: str) -> list[Window]:
        self.buf += text
        spans = sentence_spans(self.buf)
        out = []
        for s, e in spans[:-1]:
            out.append(self._mk(s, e))
        if spans[:-1]:
            cut = spans[-2][1]
            self.offset += cut
            self.buf = self.buf[cut:]
        return out

    def _mk(self, s: int, e: int) -> Window:
        w = Window(self.index, self.offset + s, self.offset + e, self.buf[s:e], self.prev)
        self.index += 1
        self.prev = w.text
        return w

    def finish(self) -> list[Window]:
        out = [self._mk(s, e) for s, e in sentence_spans(self.buf)]
        self.buf = ""
        return out
