"""The labelled grounding records (one JSONL shape shared by training and evaluation).

Kept apart from the training code so the eval tool reads records, and splits them, exactly the way
the detector was tuned: a different split function there would silently leak tuning data into the
reported figures.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal, cast

from stream_guard.exceptions import GuardError

Split = Literal["tune", "holdout"]


class RecordError(GuardError, ValueError):
    """A data file has a line that is not a valid record; the message names file and line."""


@dataclass(frozen=True, slots=True)
class Record:
    """One response and the evidence it must stay faithful to.

    ``label`` is 1 when the response contains unsupported or contradicted content. ``onset`` is the
    character offset in ``response`` where that content starts, when the source knows it.
    """

    id: str
    dataset: str
    context: str
    prompt: str | None
    response: str
    label: int
    onset: int | None
    doc_id: str | None = None

    @property
    def split_key(self) -> str:
        """What the tune/holdout split hashes: the source document when records share one.

        SummEdits has dozens of edited summaries per document; splitting those by record id
        would put one document on both sides and flatter the held-back half.
        """
        return self.doc_id if self.doc_id is not None else self.id


def read_records(path: Path, *, context_required: bool = True) -> list[Record]:
    """All records of a ``.jsonl`` or ``.jsonl.gz`` file, refusing the first malformed line.

    ``context_required=False`` reads a record without ``context`` as one with an empty context:
    records checked against an evidence collection (``stream-guard eval --collection``) carry
    no evidence of their own. Everywhere else a missing context is a mistake in the file, and
    an empty one would have every response scored against nothing.
    """
    return list(iter_records(path, context_required=context_required))


def iter_records(path: Path, *, context_required: bool = True) -> Iterator[Record]:
    path = Path(path)
    for lineno, raw in _numbered_lines(path):
        try:
            line = raw.decode("utf-8")  # per line, so an error names its line
            if not line.strip():
                continue
            record = _parse(json.loads(line), _stem(path), lineno, context_required)
        except KeyError as exc:
            raise RecordError(f"{path}:{lineno}: not a valid record: missing field {exc}"
                              ) from None
        except UnicodeDecodeError as exc:
            raise RecordError(f"{path}:{lineno}: not UTF-8 text ({exc.reason} at byte "
                              f"{exc.start} of the line)") from None
        except (ValueError, TypeError) as exc:
            raise RecordError(f"{path}:{lineno}: not a valid record: {exc}") from exc
        except RecursionError:
            raise RecordError(f"{path}:{lineno}: not a valid record: JSON nested too deeply"
                              ) from None
        yield record


def data_files(data_dir: Path) -> list[Path]:
    """The record files of a data directory, in a stable order."""
    files = sorted(p for p in Path(data_dir).iterdir()
                   if p.name.endswith(".jsonl") or p.name.endswith(".jsonl.gz"))
    if not files:
        raise FileNotFoundError(f"{data_dir}: no .jsonl or .jsonl.gz files")
    return files


def split_rank(key: str) -> float:
    """A key's stable pseudo-random position in [0, 1): the order :func:`assign_splits` ranks by."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_splits(records: Iterable[Record], holdout_fraction: float = 0.5
                  ) -> dict[str, Split]:
    """The tune/holdout side of every :attr:`Record.split_key`, stratified by ``dataset``.

    Within each dataset (domain) the keys are ranked by their hash and the first
    ``holdout_fraction`` of them are held out. A hash rank (not a shuffle) keeps the assignment
    independent of file order. Stratifying matters where keys are few: SummEdits-dev has only
    four documents per domain, and an unstratified hash put two whole domains (``samsum``,
    ``sales_call``) in the holdout half, so nothing was tuned on them.
    """
    keys_by_dataset: dict[str, set[str]] = {}
    dataset_of_key: dict[str, str] = {}
    for r in records:
        dataset = dataset_of_key.setdefault(r.split_key, r.dataset)  # a key stays on one side
        keys_by_dataset.setdefault(dataset, set()).add(r.split_key)
    sides: dict[str, Split] = {}
    for keys in keys_by_dataset.values():
        ranked = sorted(keys, key=lambda k: (split_rank(k), k))
        held = int(len(ranked) * holdout_fraction + 0.5)
        for i, key in enumerate(ranked):
            sides[key] = "holdout" if i < held else "tune"
    return sides


def split_records(records: Sequence[Record], split: Split) -> list[Record]:
    """The records of one side of :func:`assign_splits`, in their original order."""
    sides = assign_splits(records)
    return [r for r in records if sides[r.split_key] == split]


def _numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """The file's lines, numbered from 1. Damaged gzip data (a truncated download, flipped
    bits, a file that is not gzip at all) is a :class:`RecordError` naming the file and the line
    it broke at: zlib's and gzip's own errors name neither."""
    lineno = 0
    try:
        with _open_binary(path) as fh:
            for lineno, raw in enumerate(fh, start=1):
                yield lineno, raw
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise RecordError(f"{path}:{lineno + 1}: not readable gzip data ({exc})") from None


def _open_binary(path: Path) -> BinaryIO:
    if path.name.endswith(".gz"):
        return cast(BinaryIO, gzip.open(path, "rb"))
    return open(path, "rb")


def _stem(path: Path) -> str:
    """A records file's name without its extension: the dataset of records that name none."""
    name = path.name
    for ext in (".jsonl.gz", ".jsonl"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def _parse(obj: Any, file_stem: str, lineno: int, context_required: bool) -> Record:
    """One record; one without ``dataset`` (or with null) is of its file's (``file_stem``), one
    without ``id`` is named by its file and line (``kb:12``)."""
    if not isinstance(obj, dict):
        raise TypeError(f"expected a JSON object, got {type(obj).__name__}")
    label = obj["label"]
    if label not in (0, 1) or isinstance(label, bool):
        raise ValueError(f"label must be 0 or 1, got {label!r}")
    onset = obj.get("onset")
    if onset is not None and (not isinstance(onset, int) or isinstance(onset, bool)):
        raise ValueError(f"onset must be an integer or null, got {onset!r}")
    prompt = obj.get("prompt")
    doc_id = obj.get("doc_id")
    response = _text(obj, "response")
    if onset is not None and not 0 <= onset <= len(response):
        raise ValueError(f"onset {onset} is outside the response (0 to {len(response)})")
    return Record(
        id=f"{file_stem}:{lineno}" if obj.get("id") is None else _text(obj, "id"),
        dataset=file_stem if obj.get("dataset") is None else _text(obj, "dataset"),
        context=_text(obj, "context") if context_required or "context" in obj else "",
        prompt=None if prompt is None else str(prompt),
        response=response,
        label=int(label),
        onset=onset,
        doc_id=None if doc_id is None else str(doc_id),
    )


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string, got {type(value).__name__}")
    return value
