"""What the shipped detector makes of minimal pairs (a CheckList-style probe); JSON.

Hand-written premise/claim pairs, grouped by kind, each scored by the detector alone (its
P(supported), no fusion, no lexical signal), as the server pairs them (``Pair(premise,
window)``; 128 tokens). Nothing is fitted, and no dev record is used: the passages are written
here. What it shows is where the model's judgement stops, for the next model round to beat:

* ``copy``: the claim is a premise sentence, with the premise that one sentence or that
  sentence among others (the server's premises hold several: ``evidence.premise``);
* ``compression`` and ``paraphrase``: faithful claims in fewer or other words;
* ``negation``, ``antonym``, ``noun_swap``, ``name_swap``, ``number``: one edit of a faithful
  claim, of the kinds SummEdits makes (the number edits are also what the lexical conflict
  rule sees; the detector's own view of them is what this measures).

Per kind: the mean support and, for the faithful kinds, the share under 0.5; for the edited
kinds, the share at or over 0.5 (the edit accepted). With ``--model`` another detector's
``model.onnx`` is probed the same way.

    python docs/results/detector_pairs.py --out docs/results/detector-pairs.json
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from stream_guard.config import load_settings
from stream_guard.eval.results import machine_info, write_report
from stream_guard.models.cross_encoder import load_detector
from stream_guard.scores import Pair

STINK = ("The smell was so severe that the curtains of the Houses of Parliament were soaked in "
         "chloride of lime in an attempt to mask it.")
MIASMA = ("Many at the time believed that disease was spread by miasma, or foul air, so the "
          "stench was seen as a direct threat to public health.")
SEWERS = ("Parliament responded quickly and funded a new sewer network designed by Joseph "
          "Bazalgette.")
BOUNTY = "Converted to currency, the gold reward would be worth about $774,000."
RECALL = ("The company recalled 12,000 heaters in March after two units overheated in a "
          "warehouse in Leeds.")
REFUND = ("Refunds are paid to the original card within 14 days of the return being received at "
          "our Bristol depot.")
LAUNCH = "The probe was launched from French Guiana in 2021 and reached Jupiter orbit in 2026."
PASSAGE = " ".join((STINK, MIASMA, SEWERS))

FAITHFUL = {
    "copy": [
        (STINK, STINK), (REFUND, REFUND), (RECALL, RECALL),
        (PASSAGE, STINK), (PASSAGE, SEWERS), (" ".join((MIASMA, STINK)), STINK),
        (" ".join((REFUND, RECALL)), REFUND),
    ],
    "compression": [
        (PASSAGE, "The curtains of the Houses of Parliament were soaked in chloride of lime."),
        (PASSAGE, "Parliament funded a new sewer network."),
        (RECALL, "The company recalled 12,000 heaters."),
        (REFUND, "Refunds are paid within 14 days."),
        (LAUNCH, "The probe reached Jupiter orbit in 2026."),
    ],
    "paraphrase": [
        (PASSAGE, "To mask the stench, the curtains in Parliament were soaked in chloride of "
                  "lime."),
        (PASSAGE, "Joseph Bazalgette designed the new sewers that Parliament paid for."),
        (BOUNTY, "The value of the bounty in dollars is about $774,000."),
        (RECALL, "After two heaters overheated in a Leeds warehouse, 12,000 of them were "
                 "recalled."),
        (REFUND, "Once our Bristol depot receives the return, the refund reaches your card within "
                 "14 days."),
        (LAUNCH, "Launched in 2021 from French Guiana, the probe entered orbit around Jupiter in "
                 "2026."),
    ],
}
EDITED = {
    "negation": [
        (PASSAGE, "The curtains of the Houses of Parliament were not soaked in chloride of lime."),
        (PASSAGE, "Parliament did not fund a new sewer network."),
        (REFUND, "Refunds are not paid to the original card."),
        (RECALL, "The company did not recall the heaters."),
    ],
    "antonym": [
        (PASSAGE, "Parliament responded slowly."),
        (PASSAGE, "The smell was mild."),
        (RECALL, "Two units overcooled in a warehouse in Leeds."),
        (LAUNCH, "The probe landed in French Guiana in 2021."),
    ],
    "noun_swap": [
        (PASSAGE, "The carpets of the Houses of Parliament were soaked in chloride of lime."),
        (PASSAGE, "The curtains of the Houses of Parliament were soaked in vinegar."),
        (RECALL, "The company recalled 12,000 fridges in March."),
        (REFUND, "Refunds are paid in store credit within 14 days."),
    ],
    "name_swap": [
        (PASSAGE, "Parliament funded a new sewer network designed by Isambard Brunel."),
        (RECALL, "Two units overheated in a warehouse in Manchester."),
        (REFUND, "Refunds are paid within 14 days of the return reaching our Cardiff depot."),
        (LAUNCH, "The probe was launched from Kazakhstan in 2021."),
    ],
    "number": [
        (RECALL, "The company recalled 15,000 heaters in March."),
        (REFUND, "Refunds are paid within 30 days."),
        (LAUNCH, "The probe reached Jupiter orbit in 2027."),
        (BOUNTY, "The gold reward would be worth about $947,000."),
    ],
}


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--model", default="default",
                   help="a detector's model.onnx, or 'default' (the shipped one)")
    args = p.parse_args()
    began = time.perf_counter()
    detector = load_detector(args.model, cache_dir=load_settings().cache_dir, backend="onnx")
    kinds = {**{k: (v, True) for k, v in FAITHFUL.items()},
             **{k: (v, False) for k, v in EDITED.items()}}
    result: dict[str, object] = {"model": args.model, "kinds": {}}
    for kind, (pairs, faithful) in kinds.items():
        scores = [s.support for s in detector.score_pairs([Pair(p, h, "") for p, h in pairs])]
        wrong = [s < 0.5 if faithful else s >= 0.5 for s in scores]
        result["kinds"][kind] = {  # type: ignore[index]
            "faithful": faithful, "n": len(pairs),
            "mean_support": round(statistics.fmean(scores), 3),
            ("share_under_0.5" if faithful else "share_accepted_0.5"):
                round(sum(wrong) / len(wrong), 3),
            "pairs": [{"premise_chars": len(p), "claim": h, "support": round(s, 3)}
                      for (p, h), s in zip(pairs, scores, strict=True)]}
    result.update(command="python docs/results/detector_pairs.py " + " ".join(sys.argv[1:]),
                  machine=machine_info(), elapsed_s=round(time.perf_counter() - began, 1))
    write_report(args.out, result)


if __name__ == "__main__":
    main()
