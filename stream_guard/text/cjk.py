"""Chinese, Japanese and Korean text, as the lexical tier reads it.

These languages write words without spaces between them (Korean puts spaces between words, with
their particles attached), so a run of their letters is no word: read whole, a faithful Japanese
paraphrase shared no term with its source, and a figure glued to the letters around it ("为280元",
"1回45分") was no quantity. A run is read as its overlapping two-letter pieces, as search
engines index it (Lucene's ``CJKBigramFilter``), after cutting it where its script changes (Han,
katakana, Hangul): "予約制で" and "予約制です" share "予約" and "約制". Hiragana is dropped: in
Japanese it writes mostly particles and verb endings ("は", "します"), which a paraphrase changes
freely. The unit of a figure is the letter after it ("280元", "45分", "3,000원입니다": "원"), or a
katakana word ("5キロ"), but for a counter or a clock's hour (:data:`NOT_UNITS`); "第" before
it makes it an ordinal ("从第4笔开始", from the 4th).
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
# Letters after a figure that name no unit: counters of things in general ("3个小时" is three
# hours, "2个停车场" two car parks), and the hour of a clock, which is also the first letter of
# "hours" ("9時から" at nine, "2時間" two hours; "12点", "9시부터", "8시간"). Read as units,
# each set unrelated amounts against one another.
NOT_UNITS = frozenset("个個개ヶケ箇つ時时시点點")
# What makes the figure after it an ordinal ("第4笔", the 4th payment), as "th" after it does.
ORDINAL = "第"

# A katakana run opens with a letter: a lone long-vowel mark ("すごーい") is no word.
_SCRIPT_RUNS = re.compile(rf"[{HAN}]+|[\u30a1-\u30fa\uff66-\uff9d][{KATAKANA}]*|[{HANGUL}]+")
_LETTER = re.compile(rf"[{CJK}]")
_CJK_TEXT = re.compile(rf"[{CJK}\uff01-\uff5e]")
# The full-width digits, letters, "％" and "．" that CJK text types ("１５００円", "ＯＫ"), as
# ASCII; not its punctuation, which has its own use ("：" opens a value, "，" parts a list), but
# for a full-width comma that groups thousands ("１，５００") and a colon between figures
# ("９：００").
_FULL_WIDTH = {code: code - 0xFEE0 for code in (0xFF05, 0xFF0E, *range(0xFF10, 0xFF1A),
                                                *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))}
_FIGURE_PUNCTUATION = re.compile(r"(?<=\d)(?:，(?=\d{3}(?!\d))|：(?=\d))")


def has_cjk(text: str) -> bool:
    """Whether ``text`` has a CJK letter or a full-width form, and so needs reading as such
    (one scan; most text has neither)."""
    return _CJK_TEXT.search(text) is not None


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
    """``text`` with full-width figures and letters as ASCII (:data:`_FULL_WIDTH`), each
    character for one, so offsets hold (a no-op check for most text)."""
    if not text or max(text) < "\uff01":
        return text
    text = text.translate(_FULL_WIDTH)
    return _FIGURE_PUNCTUATION.sub(lambda m: "," if m.group() == "，" else ":", text)
