"""Sentence-aware chunking and document ingest."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from stream_guard.evidence.chunking import chunk_text, content_hash
from stream_guard.evidence.ingest import read_paths
from stream_guard.text.sentences import sentence_spans

TEXT = " ".join(f"Sentence number {i} talks about subject {i} at some length." for i in range(40))


def test_chunks_are_whole_sentences_within_the_limit_with_one_sentence_overlap() -> None:
    sentences = [TEXT[s:e] for s, e in sentence_spans(TEXT)]
    chunks = chunk_text(TEXT, max_chars=200)
    assert len(chunks) > 5
    assert all(len(c) <= 200 for c in chunks)
    for chunk in chunks:
        parts = [chunk[s:e] for s, e in sentence_spans(chunk)]
        assert all(p in sentences for p in parts)  # never a cut sentence
    for before, after in itertools.pairwise(chunks):
        last = [before[s:e] for s, e in sentence_spans(before)][-1]
        assert after.startswith(last)
    covered = {p for c in chunks for p in (c[s:e] for s, e in sentence_spans(c))}
    assert covered == set(sentences)


def test_an_overlong_sentence_is_split_at_word_boundaries() -> None:
    sentence = " ".join(f"word{i}" for i in range(300))  # ~2300 chars, no full stop
    chunks = chunk_text(sentence, max_chars=100)
    assert all(len(c) <= 100 for c in chunks)
    assert " ".join(chunks).split() == sentence.split()  # nothing lost, no word cut
    assert chunk_text("x" * 250, max_chars=100) == ["x" * 100, "x" * 100, "x" * 50]


def test_short_and_empty_text() -> None:
    assert chunk_text("One sentence.") == ["One sentence."]
    assert chunk_text("   \n ") == []


def test_content_hash_ignores_spacing_only() -> None:
    assert content_hash("a  b\nc") == content_hash("a b c")
    assert content_hash("a b c") != content_hash("a b d")


def test_ingest_reads_formats_and_reports_bad_files(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.txt").write_text("Plain text document.")
    (docs / "sub" / "b.md").write_text("# Title\n\nMarkdown body.")
    (docs / "c.jsonl").write_text("\n".join([
        json.dumps({"id": "doc-1", "text": "First record.", "source": "kb://1", "lang": "en"}),
        "{not json",
        json.dumps({"text": "Second record."}),
        json.dumps({"title": "no text field"}),
    ]))
    (docs / "bad.txt").write_bytes(b"\xff\xfe\x00broken")
    (docs / "image.png").write_bytes(b"\x89PNG")
    report = read_paths([docs, tmp_path / "missing.txt"])
    texts = sorted(d.text for d in report.documents)
    assert texts == ["# Title\n\nMarkdown body.", "First record.", "Plain text document.",
                     "Second record."]
    first = next(d for d in report.documents if d.id == "doc-1")
    assert first.source == "kb://1" and first.metadata == {"lang": "en"}
    second = next(d for d in report.documents if d.text == "Second record.")
    assert second.id.endswith("c.jsonl:3")
    errors = "\n".join(report.errors)
    assert "c.jsonl:2: invalid JSON" in errors
    assert 'c.jsonl:4: each line must be an object with a string "text" field' in errors
    assert "bad.txt: not UTF-8" in errors
    assert "missing.txt: no such file" in errors
    assert report.skipped_files == [str(docs / "image.png")]


def test_a_jsonl_file_of_other_records_is_named_a_few_times(tmp_path: Path) -> None:
    """A dataset or log beside the documents cost one error line per record (a new user's walk:
    2,821 lines for a folder of eval files): three are named, the rest counted."""
    (tmp_path / "log.jsonl").write_text("\n".join(
        json.dumps({"event": n}) for n in range(500)) + "\n" + json.dumps({"text": "Kept."}))
    report = read_paths([tmp_path])
    assert [d.text for d in report.documents] == ["Kept."]
    assert len(report.errors) == 4
    assert report.errors[2].endswith("log.jsonl:3: each line must be an object with a string "
                                     '"text" field')
    assert report.errors[3].endswith("log.jsonl: 497 more line(s) with errors, not listed")



def test_a_jsonl_id_that_is_no_string_or_number_is_refused(tmp_path: Path) -> None:
    """A review: an object id was stored as Python's text of it ("{'a': [1, 2]}")."""
    (tmp_path / "kb.jsonl").write_text("\n".join(json.dumps(r) for r in (
        {"id": {"a": [1, 2]}, "text": "One."}, {"id": True, "text": "Two."},
        {"id": 7, "text": "Three."})))
    report = read_paths([tmp_path / "kb.jsonl"])
    assert [d.id for d in report.documents] == ["7"]
    refused = ' "id" must be a string or a number'
    assert [e.rsplit(":", 1)[-1] for e in report.errors] == [refused] * 2


def test_explicit_unsupported_file_is_an_error(tmp_path: Path) -> None:
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF")
    report = read_paths([pdf])
    assert report.documents == [] and "unsupported file type" in report.errors[0]


def test_a_byte_order_mark_is_not_part_of_the_text(tmp_path: Path) -> None:
    """Editors on Windows start UTF-8 files with a BOM: it is no character of the document
    (before, it was stored and shown at the start of the first chunk)."""
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbfThe bridge opened in 1932.")
    (tmp_path / "bom.jsonl").write_bytes(b'\xef\xbb\xbf{"text": "A record."}\n')
    report = read_paths([tmp_path / "bom.txt", tmp_path / "bom.jsonl"])
    assert report.errors == []
    assert sorted(d.text for d in report.documents) == ["A record.", "The bridge opened in 1932."]


def test_document_ids_are_relative_to_the_path_named(tmp_path: Path) -> None:
    """Ids (and sources) are the path below a folder argument, or a file argument's name: the
    same tree read from another place has the same ids, and no id shows where it lay."""
    for root in (tmp_path / "build1" / "kb", tmp_path / "elsewhere" / "kb"):
        (root / "policies").mkdir(parents=True)
        (root / "policies" / "refund.md").write_text("Refunds within 30 days.")
        (root / "faq.jsonl").write_text(json.dumps({"text": "A question."}) + "\n")
    first, second = (read_paths([tmp_path / d / "kb"]) for d in ("build1", "elsewhere"))
    assert [(d.id, d.source) for d in first.documents] == [
        ("faq.jsonl:1", "faq.jsonl:1"), ("policies/refund.md", "policies/refund.md")]
    assert [d.id for d in second.documents] == [d.id for d in first.documents]
    single = read_paths([tmp_path / "build1" / "kb" / "policies" / "refund.md"])
    assert [(d.id, d.source) for d in single.documents] == [("refund.md", "refund.md")]
    assert not any(str(tmp_path) in d.id + d.source for d in first.documents)


def test_hidden_files_and_folders_are_left_out_unless_named(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    for hidden in (".git/objects/notes.txt", ".venv/lib/README.md", ".github/ci.md",
                   "sub/.draft.md", ".env.txt"):
        (docs / hidden).parent.mkdir(parents=True, exist_ok=True)
        (docs / hidden).write_text("Not evidence.")
    (docs / "sub" / "kept.md").write_text("Evidence.")
    report = read_paths([docs])
    assert [d.id for d in report.documents] == ["sub/kept.md"]
    assert sorted(Path(h).relative_to(docs).as_posix() for h in report.hidden) == [
        ".env.txt", ".git", ".github", ".venv", "sub/.draft.md"]
    assert report.errors == [] and report.skipped_files == []
    named = read_paths([docs / "sub" / ".draft.md", docs / ".github"])
    assert [d.id for d in named.documents] == [".draft.md", "ci.md"] and named.hidden == []


def test_a_document_id_given_twice_keeps_the_later_one(tmp_path: Path) -> None:
    """Both would be stored under the same chunk ids; the later one is kept, and the earlier
    is reported by where it was read."""
    kb = tmp_path / "kb.jsonl"
    kb.write_text(json.dumps({"id": "p1", "text": "The price is 10 euros."}) + "\n"
                  + json.dumps({"id": "p2", "text": "Shipping is free."}) + "\n"
                  + json.dumps({"id": "p1", "text": "The price is 12 euros."}) + "\n")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "notes.txt").write_text("First notes.")
    (tmp_path / "b" / "notes.txt").write_text("Second notes.")
    report = read_paths([kb, tmp_path / "a" / "notes.txt", tmp_path / "b" / "notes.txt"])
    assert [(d.id, d.text) for d in report.documents] == [
        ("p2", "Shipping is free."), ("p1", "The price is 12 euros."),
        ("notes.txt", "Second notes.")]
    assert report.errors == [
        f"{kb}:1: document id 'p1' is given again at {kb}:3; the later one is kept",
        f"{tmp_path / 'a' / 'notes.txt'}: document id 'notes.txt' is given again at "
        f"{tmp_path / 'b' / 'notes.txt'}; the later one is kept"]


@pytest.mark.parametrize("bad", [0, -5])
def test_chunk_size_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError):
        chunk_text("text", max_chars=bad)


@pytest.mark.parametrize("items", [
    [("doc", TEXT)],
    # an overlong sentence, a paragraph break, a list and a repeated item
    [("a", "Intro line.\n\n" + " ".join(f"w{i}" for i in range(400)) + ". Then 3. items:\n"
           "- one thing.\n- another thing. Dr. Smith agreed, e.g. on costs. The end."),
     ("b", TEXT[:500]), ("a2", "Intro line.\n\n" + " ".join(f"w{i}" for i in range(400)))],
])
def test_context_sentences_are_each_chunk_split_again_in_one_pass(
        items: list[tuple[str, str]]) -> None:
    # Stream set-up takes the chunker's own sentence spans instead of splitting every chunk
    # again: the sentences, and the passage each is cited from, must be exactly those.
    from stream_guard.evidence.context import context_sentences
    from stream_guard.evidence.premise import passage_sentences, unique_sentences
    from stream_guard.scores import Evidence

    passages: list[Evidence] = []
    for item_id, text in items:
        seen: set[str] = set()  # an item's repeated chunk once; each item its own copy
        for n, chunk in enumerate(chunk_text(text)):
            if content_hash(chunk) not in seen:
                seen.add(content_hash(chunk))
                passages.append(Evidence(id=f"{item_id}#{n}", text=chunk, source=item_id))
    split = unique_sentences(map(passage_sentences, passages))
    expected = [(s.text, s.passage, s.keys) for s in split]
    assert [(s.text, s.passage, s.keys) for s in context_sentences(items)] == expected
    assert len(expected) > 5


def test_context_sentences_keep_a_code_block_that_spans_chunks() -> None:
    # Re-splitting a chunk that starts inside a fenced block would lose the fence and merge its
    # lines; the whole item's sentence spans keep them apart.
    from stream_guard.evidence.context import context_sentences

    text = "Setup steps follow.\n\n```\n" + "\n".join(
        f"run_step_{i} --flag {i}" for i in range(60)) + "\n```\nDone."
    expected = list(dict.fromkeys(text[s:e] for s, e in sentence_spans(text)))
    assert all(len(x) <= 600 for x in expected)
    assert [s.text for s in context_sentences([("doc", text)])] == expected
    assert len(chunk_text(text)) > 1  # the block does span chunks
