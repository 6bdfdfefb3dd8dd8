"""A digest of how the server cuts the dev sets' text: every answer's windows (kind, start,
end) and every context's sentence spans, per file; writes JSON.

The same digests at two revisions say a change to the sentence or window rules moves no dev
record (so no dev figure can move through them); the count of answers whose checked text
differs without citation markers says where that stripping reaches. Run it in a tree of each
revision:

    python docs/results/text_pipeline_digest.py --data ../shared/data/dev \
        --out docs/results/text-pipeline-digest.json
"""

from __future__ import annotations

import hashlib
import json

from stream_guard.dataset import read_records
from stream_guard.eval.results import code_revision, results_parser, write_report
from stream_guard.oversight.segmenter import WindowSegmenter
from stream_guard.text.sentences import sentence_spans, without_citations


def main() -> None:
    args = results_parser(__doc__).parse_args()
    files = {}
    for path in sorted(args.data.glob("*.jsonl")):
        windows, sentences = hashlib.sha256(), hashlib.sha256()
        records = read_records(path)
        cited = 0
        for record in records:
            segmenter = WindowSegmenter(400, 12)
            cut = segmenter.feed(record.response) + segmenter.finish()
            windows.update(json.dumps([(w.kind, w.start, w.end) for w in cut]).encode())
            sentences.update(json.dumps(sentence_spans(record.context)).encode())
            cited += without_citations(record.response) != record.response
        files[path.name] = {"records": len(records), "windows_sha256": windows.hexdigest(),
                            "context_sentences_sha256": sentences.hexdigest(),
                            "answers_with_citation_markers": cited}
    write_report(args.out, {
        "command": "python docs/results/text_pipeline_digest.py --data ../shared/data/dev "
                   "--out docs/results/text-pipeline-digest.json",
        "window_settings": {"max_chars": 400, "min_chars": 12},
        "files": files, "code_revision": code_revision()})


if __name__ == "__main__":
    main()
