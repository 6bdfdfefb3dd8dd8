"""Answers in Chinese and Japanese, streamed to a server on the default tier and shipped
detector.

These languages write no spaces between words. Read as whole runs of letters
(:mod:`stream_guard.text.terms`), a faithful paraphrase shared no term with its source and
halted (a blind probe: 6 of 8 faithful Japanese answers, 3 of 8 Chinese), and a figure glued
to the letters around it ("为280元") was no quantity. Read as pairs of letters, as search engines
index them, a faithful answer streams to its end, and a changed price is contradicted by the
evidence's price in the same unit (:mod:`stream_guard.text.cjk`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import stream_on_detector

pytestmark = pytest.mark.slow  # the shipped detector

INN = ["湯宿ひなたのご利用案内。チェックインは15:00〜18:00、チェックアウトは10:00です。"
       "大浴場は5:00〜24:00までご利用いただけます。貸切風呂は1回45分、1,500円で、予約制です。"
       "ペットとのご宿泊はお受けしておりません。"]
CLINIC = ["康宁口腔诊所营业时间：周一至周五9:00—18:00，周六9:00—12:00，周日休息。"
          "洗牙价格为280元，首次就诊患者可享8折优惠。儿童涂氟每次120元。"]



@pytest.mark.parametrize(("context", "faithful", "wrong", "changed"), [
    (INN, "貸切風呂は予約制で、1回45分のご利用で1,500円です。チェックアウトは10:00です。",
     "貸切風呂は予約制で、1回45分のご利用で2,500円です。チェックアウトは10:00です。", "2,500"),
    (CLINIC, "您好！洗牙价格是280元，首次就诊还可享受8折优惠。我们周六营业到中午12点。",
     "您好！洗牙价格是380元，首次就诊还可享受8折优惠。我们周六营业到中午12点。", "380"),
])
async def test_a_faithful_cjk_answer_streams_to_its_end_and_a_changed_figure_halts(
        tmp_path: Path, model_cache: Path, context: list[str], faithful: str, wrong: str,
        changed: str) -> None:
    frames = await stream_on_detector(tmp_path, model_cache, faithful, context, piece=3)
    assert not [f for f in frames if f["type"] == "halt"]
    assert frames[-1]["type"] == "done" and frames[-1]["halted"] is False
    frames = await stream_on_detector(tmp_path, model_cache, wrong, context, piece=3)
    halt = next(f for f in frames if f["type"] == "halt")
    assert halt["reason"] == "contradicted"  # the evidence states another price
    assert halt["window"]["start"] <= wrong.index(changed) < halt["window"]["end"]
