"""Client frames parsed into typed objects (server frames: :mod:`.server_frames`).

Parsing is strict: an unknown field, a field given twice, a wrong type or an out-of-range value
is a ``bad_frame`` error naming the field. Being strict now keeps v1 extensible later: a field we
ignore today could not be given a meaning tomorrow without breaking clients that already send
it; and a field given twice (``"seq": 1, "seq": 2``) means whatever one JSON parser or another
keeps, so it means nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

from stream_guard.protocol.errors import ErrorCode, ProtocolError

Mode = Literal["observe", "holdback"]
MAX_STREAM_ID = 128
MAX_CONTEXT_ITEMS = 256
MAX_SEQ = 2**53 - 1  # exactly representable in every client's JSON numbers
MAX_COLLECTION = 64


@dataclass(frozen=True, slots=True)
class ContextItem:
    id: str
    text: str


@dataclass(frozen=True, slots=True)
class StreamOptions:
    mode: Mode = "observe"
    threshold: float | None = None
    verdicts: bool = True


@dataclass(frozen=True, slots=True)
class Start:
    stream_id: str
    prompt: str | None = None
    context: tuple[ContextItem, ...] = ()
    collection: str | None = None
    options: StreamOptions = field(default_factory=StreamOptions)


@dataclass(frozen=True, slots=True)
class Delta:
    stream_id: str
    seq: int
    text: str


@dataclass(frozen=True, slots=True)
class End:
    stream_id: str


@dataclass(frozen=True, slots=True)
class Cancel:
    stream_id: str


@dataclass(frozen=True, slots=True)
class Ping:
    pass


ClientFrame = Start | Delta | End | Cancel | Ping


def parse_client_frame(raw: str | bytes) -> ClientFrame:
    """Parse one text message; raises :class:`ProtocolError` with a message naming the problem."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        raise ProtocolError(ErrorCode.BAD_FRAME, "binary frames are not supported; send JSON text")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        mended = _LONE_SURROGATE.sub(_mend_surrogate, raw)
        if mended == raw:
            raise ProtocolError(ErrorCode.BAD_FRAME, f"invalid JSON: {exc}") from None
        try:
            data = orjson.loads(mended)
        except orjson.JSONDecodeError as again:
            raise ProtocolError(ErrorCode.BAD_FRAME, f"invalid JSON: {again}") from None
        raw = mended
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.BAD_FRAME, "a frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(ErrorCode.BAD_FRAME, "field 'type' must be a string")
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown frame type {shown(kind)}",
                            _stream_id_hint(data))
    frame = parser(data)
    # A name given twice, checked once the frame is one of ours (a small shape, walked
    # quickly): counted cheaply first, colons, then name ends.
    names = _names(data)
    if raw.count(":") > names and len(_NAME.findall(raw)) > names:
        try:
            json.loads(raw, object_pairs_hook=_unique)
        except _Repeated as exc:  # which of two stream ids is meant is not known either
            raise ProtocolError(ErrorCode.BAD_FRAME, f"field {shown(exc.name)} is given twice",
                                None if exc.name == "stream_id" else _stream_id_hint(data)
                                ) from None
    return frame


# An escaped backslash, an escaped surrogate pair, or an escaped UTF-16 surrogate alone: what a
# JavaScript string cut inside an emoji serialises to ("\ud83d"), which orjson refuses.
# Refusing the frame lost a delta a client cut so (and every later one was then refused
# bad_seq); each lone one is read as U+FFFD, as the JavaScript client sends its own pieces, and
# the text is parsed again by orjson, whose rules for everything else stand.
_LONE_SURROGATE = re.compile(r"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
                             r"|\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _mend_surrogate(match: re.Match[str]) -> str:
    """A lone surrogate's escape (six characters) as U+FFFD's; a backslash's or a pair's kept."""
    text = match.group()
    return "\\ufffd" if len(text) == 6 else text


# The end of a member's name: every name has one, and so may a string ('"a": b'), so the
# raw text holds at least as many as the parsed objects hold names, more if one is repeated.
_NAME = re.compile(r'"\s*:')


def _names(value: dict[str, Any]) -> int:
    """How many members the parsed objects of ``value`` hold, nested ones too (a walk with a
    stack of its own: no depth of nesting exhausts Python's)."""
    count = 0
    stack: list[Any] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            count += len(node)
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return count


class _Repeated(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One JSON object's members, refusing a name given twice (the slow path, taken only when
    the raw text holds more names than the parsed objects do)."""
    seen: set[str] = set()
    for name, _ in pairs:
        if name in seen:
            raise _Repeated(name)
        seen.add(name)
    return dict(pairs)


# What an error echoes of a name the client gave that the server does not know (a type, a
# field, an option): its first characters, and the first few such names. Whole, a 60 KB field
# name came back as a 150 KB error (each unprintable character escaped twice: a review).
SHOWN_CHARS = 40
SHOWN_NAMES = 5


def shown(name: str) -> str:
    """A client's name as an error quotes it: at most :data:`SHOWN_CHARS` of it."""
    return repr(name[:SHOWN_CHARS]) + ("..." if len(name) > SHOWN_CHARS else "")


def shown_all(names: list[str]) -> str:
    """Names as an error lists them: the first :data:`SHOWN_NAMES`, each :func:`shown`."""
    listed = ", ".join(map(shown, names[:SHOWN_NAMES]))
    more = len(names) - SHOWN_NAMES
    return listed + (f" and {more} more" if more > 0 else "")


def integer(value: Any) -> int | None:
    """A JSON integer as JSON Schema (and docs/protocol.schema.json) counts one: a number with
    no fraction, however it is written (7, 7.0, 7e0: a client's JSON writer may give a whole
    float so, a review found 1.0 refused), where it is read exactly (a float within
    :data:`MAX_SEQ`; orjson reads every integer literal of 64 bits as an int); None for
    anything else, ``true`` included."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer() and -MAX_SEQ <= value <= MAX_SEQ:
        return int(value)
    return None


def is_name(value: str, limit: int) -> bool:
    """An id or name the server echoes or keys by: 1 to ``limit`` printable characters."""
    return 0 < len(value) <= limit and value.isprintable()


def _stream_id_hint(data: Mapping[str, Any]) -> str | None:
    """The stream an error about ``data`` names: its id if that is one the server would accept
    (a refused id, control characters say, is not echoed back)."""
    sid = data.get("stream_id")
    return sid if isinstance(sid, str) and is_name(sid, MAX_STREAM_ID) else None


class _Fields:
    """Reads a frame's fields, checking types and refusing leftovers."""

    def __init__(self, data: Mapping[str, Any], allowed: frozenset[str]) -> None:
        self.data = data
        self.stream_id = _stream_id_hint(data)
        unknown = sorted(set(data) - allowed - {"type"})
        if unknown:
            # the field it may stand for, when that one is missing ("id" for "stream_id")
            missing = " (is 'stream_id' missing?)" if ("stream_id" in allowed
                                                       and "stream_id" not in data) else ""
            self.fail(f"unknown field(s): {shown_all(unknown)}{missing}")

    def fail(self, message: str) -> ProtocolError:
        raise ProtocolError(ErrorCode.BAD_FRAME, message, self.stream_id)

    def stream(self) -> str:
        sid = self.data.get("stream_id")
        if not isinstance(sid, str) or not sid:
            self.fail("field 'stream_id' must be a non-empty string")
        assert isinstance(sid, str)
        if not is_name(sid, MAX_STREAM_ID):
            self.fail(f"field 'stream_id' must be printable and at most {MAX_STREAM_ID} characters")
        return sid

    def text(self, name: str, *, optional: bool = False) -> str | None:
        value = self.data.get(name)
        if value is None and optional:
            return None
        if not isinstance(value, str):
            self.fail(f"field {name!r} must be a string")
        assert isinstance(value, str)
        return value


def _parse_start(data: Mapping[str, Any]) -> Start:
    f = _Fields(data, frozenset({"stream_id", "prompt", "context", "collection", "options"}))
    sid = f.stream()
    prompt = f.text("prompt", optional=True)
    collection = f.text("collection", optional=True)
    if collection is not None and not is_name(collection, MAX_COLLECTION):
        f.fail(f"field 'collection' must be 1 to {MAX_COLLECTION} printable characters")
    context, options = _parse_context(f), _parse_options(f)
    if not context and collection is None:
        f.fail("a stream needs 'context' or a 'collection': there is nothing to check its "
               "output against")
    return Start(sid, prompt, context, collection, options)


def _parse_context(f: _Fields) -> tuple[ContextItem, ...]:
    if "context" not in f.data:
        return ()
    raw = f.data["context"]
    if not isinstance(raw, list):
        f.fail("field 'context' must be a list of strings or {id, text} objects")
    assert isinstance(raw, list)
    if len(raw) > MAX_CONTEXT_ITEMS:
        f.fail(f"field 'context' has more than {MAX_CONTEXT_ITEMS} items")
    items: list[ContextItem] = []
    first: dict[str, int] = {}  # id -> the item that gave it first
    for i, item in enumerate(raw):
        if isinstance(item, str):
            items.append(ContextItem(f"ctx-{i}", item))
        elif isinstance(item, dict) and set(item) <= {"id", "text"} and isinstance(
                item.get("text"), str):
            cid = _context_id(f, i, item.get("id", f"ctx-{i}"))
            # Echoed in every verdict's evidence: an id of 60 KB made each verdict one.
            if not is_name(cid, MAX_STREAM_ID):
                f.fail(f"context[{i}].id must be 1 to {MAX_STREAM_ID} printable characters")
            items.append(ContextItem(cid, item["text"]))
        else:
            raise f.fail(_BAD_ITEM.format(i))
        # Verdicts cite evidence by id: two passages under one id (7 and "7" included) could
        # not be told apart.
        cid = items[-1].id
        if cid in first:
            f.fail(f"context[{i}].id {cid!r} is context[{first[cid]}]'s too: ids must be unique")
        first[cid] = i
    return tuple(items)


_BAD_ITEM = "context[{}] must be a string or an object with string 'text' and 'id'"


def _context_id(f: _Fields, i: int, given: Any) -> str:
    """A context item's id as verdicts cite it: a string as given, an integer as its digits
    (7, 7.0 and "7" are one id)."""
    if isinstance(given, str):
        return given
    if (number := integer(given)) is not None:
        return str(number)
    if type(given) is float and given.is_integer():  # 1e30, or a literal past 64 bits
        raise f.fail(f"context[{i}].id is a whole number too large to be read exactly: "
                     "send it as a string")
    raise f.fail(_BAD_ITEM.format(i))


def _parse_options(f: _Fields) -> StreamOptions:
    if "options" not in f.data:
        return StreamOptions()
    raw = f.data["options"]
    if not isinstance(raw, dict):
        f.fail("field 'options' must be an object")
    assert isinstance(raw, dict)
    unknown = sorted(set(raw) - {"mode", "threshold", "verdicts"})
    if unknown:
        f.fail(f"unknown option(s): {shown_all(unknown)}")
    mode = raw.get("mode", "observe")
    if mode not in ("observe", "holdback"):
        f.fail("option 'mode' must be 'observe' or 'holdback'")
    threshold = raw.get("threshold")
    if "threshold" in raw and (isinstance(threshold, bool) or not isinstance(
            threshold, (int, float)) or not 0.0 <= threshold <= 1.0):
        f.fail("option 'threshold' must be a number from 0 to 1")
    verdicts = raw.get("verdicts", True)
    if not isinstance(verdicts, bool):
        f.fail("option 'verdicts' must be true or false")
    return StreamOptions(mode, None if threshold is None else float(threshold), verdicts)


_DELTA_FIELDS = frozenset({"type", "stream_id", "seq", "text"})


def _parse_delta(data: Mapping[str, Any]) -> Delta:
    # The frame of the hot path: a well-formed delta is taken with one check per field; the
    # checks below run only to name what is wrong with one that is not.
    sid, seq, text = data.get("stream_id"), data.get("seq"), data.get("text")
    if (type(sid) is str and type(seq) is int and 0 <= seq <= MAX_SEQ and type(text) is str
            and data.keys() <= _DELTA_FIELDS and is_name(sid, MAX_STREAM_ID)):
        return Delta(sid, seq, text)
    f = _Fields(data, frozenset({"stream_id", "seq", "text"}))
    sid = f.stream()
    seq = integer(data.get("seq"))
    if seq is None or not 0 <= seq <= MAX_SEQ:
        f.fail(f"field 'seq' must be an integer from 0 to {MAX_SEQ}")
    assert seq is not None
    text = f.text("text")
    assert text is not None
    return Delta(sid, seq, text)


def _parse_end(data: Mapping[str, Any]) -> End:
    return End(_Fields(data, frozenset({"stream_id"})).stream())


def _parse_cancel(data: Mapping[str, Any]) -> Cancel:
    return Cancel(_Fields(data, frozenset({"stream_id"})).stream())


def _parse_ping(data: Mapping[str, Any]) -> Ping:
    _Fields(data, frozenset())
    return Ping()


_PARSERS: dict[str, Callable[[Mapping[str, Any]], ClientFrame]] = {
    "start": _parse_start, "delta": _parse_delta, "end": _parse_end, "cancel": _parse_cancel,
    "ping": _parse_ping}

