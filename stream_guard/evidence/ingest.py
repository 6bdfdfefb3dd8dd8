"""Reading evidence documents from txt, md and jsonl files and whole folders.

A bad file (undecodable, malformed JSON line, no ``text`` field) is reported by name and skipped,
and everything else still goes in: one broken file in a folder of thousands should cost that file,
not the whole ingest.

A document's id (and source) is its path relative to what was named: a file inside a folder
argument is named by its path below that folder (``policies/refund.md``), a file argument by its
file name (``refund.md``), a JSONL record without an ``id`` by that name and its line
(``kb.jsonl:12``). So the same tree indexed from another checkout or mount keeps its ids (a
changed document replaces its old version instead of standing beside it), and no id shows the
server's directories to a client. Hidden files and folders (a name starting with ``.``: ``.git``,
``.venv``) inside a folder are left out unless named themselves.
"""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stream_guard.text.terms import states_anything

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
    hidden: list[str] = field(default_factory=list)  # hidden files and folders left out
    empty: list[str] = field(default_factory=list)  # files, JSONL records (FILE:LINE) of no text
    not_files: list[str] = field(default_factory=list)  # symlinked folders, FIFOs, sockets


def read_paths(paths: Sequence[str | Path]) -> IngestReport:
    """Documents from files and folders (recursively); problems are collected, not raised.

    Two documents with the same id (a JSONL id given twice, two files of the same name given
    as arguments) would be stored as one document with the chunks of both: the later one is
    kept, and the earlier one is reported as an error."""
    report = IngestReport()
    found: dict[str, tuple[Document, str]] = {}  # id -> (document, where it was read)
    for raw in paths:
        path = Path(raw).expanduser()
        try:
            _read_path(path, report, found)
        except OSError as exc:  # a path too long to look at, say
            report.errors.append(f"{path}: cannot read ({exc.strerror})")
    report.documents = [doc for doc, _ in found.values()]
    return report


def _read_path(path: Path, report: IngestReport,
               found: dict[str, tuple[Document, str]]) -> None:
    if path.is_dir():
        for file, name in _walk(path, report):
            if file.suffix.lower() in SUPPORTED:
                _read_file(file, name, report, found)
            else:
                report.skipped_files.append(str(file))
    elif path.exists() and not path.is_file():
        report.errors.append(f"{path}: not a regular file or folder")
    elif path.is_file():
        if path.suffix.lower() in SUPPORTED:
            _read_file(path, path.name, report, found)
        else:
            report.errors.append(f"{path}: unsupported file type (use .txt, .md or .jsonl)")
    elif path.is_symlink():
        report.errors.append(f"{path}: a link to a missing file, or a loop of links")
    else:
        report.errors.append(f"{path}: no such file or directory")


def _walk(folder: Path, report: IngestReport) -> Iterator[tuple[Path, str]]:
    """Files below ``folder`` with their path relative to it, sorted, hidden ones left out
    (a hidden folder is not descended into: ``.git`` may hold more files than the docs)."""
    def cannot_list(path: object, exc: OSError) -> None:
        # A folder that cannot be listed is a set of files that cannot be read: named, and
        # --sync must not take its documents for deleted ones (os.walk drops it silently).
        report.errors.append(f"{path}: cannot list the folder ({exc.strerror})")

    for top, dirs, files in os.walk(folder, onerror=lambda exc: cannot_list(exc.filename, exc)):
        here = Path(top)
        for hidden in sorted(n for n in dirs + files if n.startswith(".")):
            report.hidden.append(str(here / hidden))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(f for f in files if not f.startswith(".")):
            file = here / name
            try:
                if file.is_file():
                    yield file, file.relative_to(folder).as_posix()
                elif file.is_symlink() and not file.exists():  # to nothing: an unmounted
                    # share, say; not a deletion
                    report.errors.append(f"{file}: a link to a missing file, not read")
                else:  # a FIFO, a socket, a link to one or to a device: said, not read (a FIFO
                    # would block); a link to /dev/null was "a missing file", an error that
                    # held every --sync back for good (a review)
                    report.not_files.append(str(file))
            except OSError as exc:  # a path too long to open, say: the rest is still read
                report.errors.append(f"{file}: cannot read ({exc.strerror})")
        kept = []
        for name in dirs:  # os.walk does not follow links to folders: said, not descended
            try:
                if (here / name).is_symlink():
                    report.not_files.append(str(here / name))
                kept.append(name)
            except OSError as exc:
                cannot_list(here / name, exc)
        dirs[:] = kept


def _decoded(raw: bytes) -> str:
    """A file's text: UTF-8, or UTF-16/32 where a byte-order mark says so (Windows tools
    write UTF-16 with one: it was refused as "not UTF-8" with no hint, a review); a BOM is
    no text."""
    for boms, codec in (((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE), "utf-32"),
                        ((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), "utf-16")):
        if raw.startswith(boms):
            return raw.decode(codec)
    return raw.decode("utf-8-sig")


def _read_file(path: Path, name: str, report: IngestReport,
               found: dict[str, tuple[Document, str]]) -> None:
    shown = str(path).encode("utf-8", "backslashreplace").decode("utf-8")
    if not _is_text(name):  # a file name that is not UTF-8: no id a collection can store
        report.errors.append(f"{shown}: the file name is not UTF-8; rename it")
        return
    try:
        content = _decoded(path.read_bytes())
    except UnicodeDecodeError as exc:
        report.errors.append(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})")
        return
    except OSError as exc:
        report.errors.append(f"{path}: cannot read ({exc.strerror})")
        return
    if not states_anything(content):  # an empty file, named as one, JSONL too (a review: one
        # with no record was passed over without a word, and kept its old documents, unsaid);
        # one of zero-width spaces too: it made no chunk, so every add replaced it again and
        # published a version (a review)
        report.empty.append(str(path))
    elif path.suffix.lower() in JSONL_SUFFIXES:  # a NUL there fails its own line's JSON
        listed = unlisted = 0
        for where, doc_or_error in _jsonl_documents(content, path, name):
            if doc_or_error is None:  # a record with no text, named as an empty file is
                report.empty.append(where)
            elif not isinstance(doc_or_error, str):
                _keep(doc_or_error, where, report, found)
            elif listed < _LISTED:
                report.errors.append(doc_or_error)
                listed += 1
            else:  # a file of other records (a log, a dataset) is not named thousands of times
                unlisted += 1
        if unlisted:
            report.errors.append(f"{path}: {unlisted} more line(s) with errors, not listed")
    elif "\x00" in content:  # UTF-16 without a byte-order mark decodes as UTF-8 with NULs
        report.errors.append(f"{path}: not UTF-8 text (it holds NUL bytes: UTF-16? save it "
                             "as UTF-8)")
    else:
        _keep(Document(id=name, text=content, source=name), str(path), report, found)


def _is_text(value: str) -> bool:
    """Whether ``value`` can be stored as UTF-8: not a lone surrogate (a JSON "\\ud800", or a
    file name's undecodable byte as Python keeps it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _keep(doc: Document, where: str, report: IngestReport,
          found: dict[str, tuple[Document, str]]) -> None:
    earlier = found.pop(doc.id, None)  # popped, so the kept one takes the later place
    if earlier is not None:
        report.errors.append(f"{earlier[1]}: document id {doc.id!r} is given again at {where}; "
                             "the later one is kept")
    found[doc.id] = (doc, where)


# The errors named line by line in one JSONL file; the rest are counted.
_LISTED = 3


def _jsonl_documents(content: str, path: Path,
                     name: str) -> Iterator[tuple[str, Document | str | None]]:
    """Each record's document, or the error that names its line, or None for a record with
    no text; a record without an id (or an empty one) is named by the file and its line."""
    # Lines end at "\n" only: JSON may hold U+2028, U+2029 or U+0085 raw (json.dumps with
    # ensure_ascii=False writes them so), which str.splitlines() would take for line breaks.
    for lineno, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield where, f"{where}: invalid JSON ({exc.msg})"
            continue
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            yield where, f'{where}: each line must be an object with a string "text" field'
            continue
        if not states_anything(record["text"]):
            yield where, None
            continue
        if isinstance(record.get("id"), dict | list | bool):  # str() would store "{'a': 1}"
            yield where, f'{where}: "id" must be a string or a number'
            continue
        given = "" if record.get("id") is None else str(record["id"])
        doc_id = given if given.strip() else f"{name}:{lineno}"
        source = str(record.get("source") or f"{name}:{lineno}")
        metadata = {k: v for k, v in record.items() if k not in {"id", "text", "source"}}
        if not all(map(_is_text, (record["text"], doc_id, source,
                                  json.dumps(metadata, ensure_ascii=False)))):
            yield where, f"{where}: holds a lone surrogate (an unpaired \\ud800-\\udfff escape)"
            continue
        yield where, Document(id=doc_id, text=record["text"], source=source, metadata=metadata)
