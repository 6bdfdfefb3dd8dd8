"""Reading evidence documents from txt, md and jsonl files and whole folders.

A bad file (undecodable, malformed JSON line, no ``text`` field) is reported by name and skipped,
and everything else still goes in: one broken file in a folder of thousands should cost that file,
not the whole ingest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
JSONL_SUFFIXES = frozenset({".jsonl"})
SUPPORTED = TEXT_SUFFIXES | JSONL_SUFFIXES


@dataclass(frozen=True)
class Document:
    """One document. ``id`` is its identity in a collection: adding a document with an id that is
    already there replaces the old version's chunks."""

    id: str
    text: str
    source: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestReport:
    documents: list[Document] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)


def read_paths(paths: Sequence[str | Path]) -> IngestReport:
    """Documents from files and folders (recursively); problems are collected, not raised."""
    report = IngestReport()
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if file.suffix.lower() in SUPPORTED:
                    _read_file(file, report)
                elif not any(part.startswith(".") for part in file.relative_to(path).parts):
                    report.skipped_files.append(str(file))
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED:
                _read_file(path, report)
            else:
                report.errors.append(f"{path}: unsupported file type (use .txt, .md or .jsonl)")
        else:
            report.errors.append(f"{path}: no such file or directory")
    return report


def _read_file(path: Path, report: IngestReport) -> None:
    try:
        content = path.read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is no text
    except UnicodeDecodeError as exc:
        report.errors.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return
    except OSError as exc:
        report.errors.append(f"{path}: cannot read ({exc.strerror})")
        return
    resolved = str(path.resolve())
    if path.suffix.lower() in JSONL_SUFFIXES:
        for doc_or_error in _jsonl_documents(content, path, resolved):
            if isinstance(doc_or_error, str):
                report.errors.append(doc_or_error)
            else:
                report.documents.append(doc_or_error)
    elif content.strip():
        report.documents.append(Document(id=resolved, text=content, source=resolved))


def _jsonl_documents(content: str, path: Path, resolved: str) -> Iterator[Document | str]:
    for lineno, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield f"{where}: invalid JSON ({exc.msg})"
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            yield f'{where}: each line must be an object with a string "text" field'
            continue
        if not record["text"].strip():
            continue
        doc_id = str(record["id"]) if record.get("id") is not None else f"{resolved}:{lineno}"
        source = str(record.get("source") or f"{resolved}:{lineno}")
        metadata = {k: v for k, v in record.items() if k not in {"id", "text", "source"}}
        yield Document(id=doc_id, text=record["text"], source=source, metadata=metadata)
