"""Chinese, Japanese and Korean text, as the lexical tier reads it.

These languages write words without spaces between them (Korean puts spaces between words, with
their particles attached), so a run of their letters is no word: read whole, a faithful Japanese
paraphrase shared no term with its source, and a figure glued to the letters around it ("为280元",
"1回45分") was no quantity. A run is read as its overlapping two-letter pieces, as search
engines index it (Lucene's ``CJKBigramFilter``), after cutting it where its script changes (Han,
katakana, Hangul): "予約制で" and "予約制です" share "予約" and "約制". Hiragana is dropped: in
Japanese it writes mostly particles and verb endings ("は", "します"), which a paraphrase changes
freely. The unit of a figure is the letter after it ("280元", "45分", "3,000원입니다": "원"), or a
katakana word ("5キロ"); "第" before it makes it an ordinal ("从第4笔开始", from the 4th).
"""

from __future__ import annotations

import re

HIRAGANA = "\u3041-\u3096\u309d-\u309f"
KATAKANA = "\u30a1-\u30fa\u30fc-\u30ff\uff66-\uff9f"
HAN = "\u3005\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HANGUL = "\u1100-\u11ff\u3131-\u318e\uac00-\ud7a3"
# All four, for a character class: "[^\W{CJK}]" is a word character of any other script.
CJK = HIRAGANA + KATAKANA + HAN + HANGUL
# The unit of a figure written in CJK: one Han letter or Hangul syllable, or a katakana word.
UNIT = rf"[{HAN}{HANGUL}]|[{KATAKANA}]+"
# What makes the figure after it an ordinal ("第4笔", the 4th payment), as "th" after it does.
ORDINAL = "第"

_SCRIPT_RUNS = re.compile(rf"[{HAN}]+|[{KATAKANA}]+|[{HANGUL}]+")
_LETTER = re.compile(rf"[{CJK}]")
# The full-width forms of ASCII that CJK text types ("１，５００", "ＯＫ"), as ASCII.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def is_cjk(token: str) -> bool:
    """Whether ``token`` opens with a CJK letter (the first check is free for Latin text)."""
    return token[:1] >= "\u1100" and _LETTER.match(token) is not None


def letter_pairs(run: str) -> list[str]:
    """The keys of a run of CJK letters: each script's piece of it as overlapping pairs of
    letters (a letter alone stays whole), hiragana dropped."""
    keys: list[str] = []
    for piece in _SCRIPT_RUNS.findall(run):
        keys += [piece] if len(piece) == 1 else [piece[i:i + 2] for i in range(len(piece) - 1)]
    return keys


def narrow(text: str) -> str:
    """``text`` with full-width ASCII forms as ASCII (a no-op check for most text)."""
    return text.translate(_FULL_WIDTH) if text and max(text) >= "\uff01" else text
