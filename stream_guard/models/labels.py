"""Which output of a classifier means "supported" and which means "contradicted".

Cross-encoders name their classes inconsistently (ENTAILMENT, entailment, supported, CONSISTENT,
LABEL_0...). The map is read from ``id2label`` in the model's config by name, never by position,
because MNLI checkpoints disagree on the order; names it cannot place must be given explicitly
rather than guessed, since a swapped map would invert every verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stream_guard.exceptions import GuardError

SUPPORT_NAMES = frozenset({"entailment", "entailed", "entails", "entail", "supported", "support",
                           "supports", "consistent", "faithful", "factual", "grounded"})
CONTRADICTION_NAMES = frozenset({"contradiction", "contradicted", "contradicts", "contradict",
                                 "refuted", "refutes"})
OTHER_NAMES = frozenset({"neutral", "unsupported", "not_supported", "not supported",
                         "not_entailment", "not entailment", "inconsistent", "unfaithful",
                         "hallucinated", "hallucination", "not_enough_info", "nei"})


class LabelMapError(GuardError, ValueError):
    """The classes of a model cannot be mapped to support/contradiction; the message says how
    to pass the map explicitly."""


@dataclass(frozen=True)
class LabelMap:
    """Output indices: ``support`` (required) and ``contradiction`` (3-way models only).

    A model with a single output is read as a sigmoid score for support.
    """

    num_labels: int
    support: int
    contradiction: int | None = None

    def __post_init__(self) -> None:
        indices = [self.support] + ([self.contradiction] if self.contradiction is not None else [])
        if any(not 0 <= i < self.num_labels for i in indices):
            raise LabelMapError(f"label indices {indices} out of range for {self.num_labels} "
                                "outputs")
        if self.contradiction == self.support:
            raise LabelMapError("support and contradiction must be different outputs")

    @classmethod
    def from_config(cls, id2label: Mapping[str | int, str] | None,
                    override: Mapping[str, int] | None = None,
                    num_labels: int | None = None) -> LabelMap:
        """From a config's ``id2label``, or ``override`` ({"support": i, "contradiction": j});
        ``num_labels``: the config's, for a config without ``id2label``."""
        labels = _indexed(id2label or {})
        if override:
            check_override(override)
            # Without id2label (transformers leaves it out for default names) the outputs are
            # the config's num_labels, else transformers' default of 2; a model with another
            # number fails its trial pair at load, naming the shape.
            num = max(labels) + 1 if labels else (num_labels or 2)
            return cls(num, int(override["support"]), _opt_int(override.get("contradiction")))
        if not labels:
            raise LabelMapError("the model config has no id2label: add one to config.json, or "
                                "say which output means supported with the detector_labels "
                                "setting (STREAM_GUARD_DETECTOR_LABELS=support=1)")
        num = max(labels) + 1
        if num == 1:
            return cls(1, 0)
        support = _find(labels, SUPPORT_NAMES)
        contradiction = _find(labels, CONTRADICTION_NAMES)
        unplaced = [name for i, name in labels.items()
                    if i not in (support, contradiction) and _norm(name) not in OTHER_NAMES]
        if support is None or unplaced:
            raise LabelMapError(
                f"cannot tell which of the labels {[labels[i] for i in sorted(labels)]} means "
                "supported/entailed: pass the map explicitly, e.g. the detector_labels setting "
                "STREAM_GUARD_DETECTOR_LABELS=support=1,contradiction=0")
        return cls(num, support, contradiction)


def check_override(override: Mapping[str, int]) -> None:
    """Raise unless ``override`` names the roles a map takes: "support", and optionally
    "contradiction" (the settings check it at start, before any model is loaded)."""
    if set(override) - {"support", "contradiction"} or "support" not in override:
        raise LabelMapError('a label map override needs "support" and optionally '
                            f'"contradiction"; got {sorted(override)}')
    if override.get("contradiction") == override["support"]:
        raise LabelMapError("support and contradiction must be different outputs")


def parse_label_map(text: str) -> dict[str, int]:
    """``"support=1,contradiction=0"`` (the form a setting or CLI flag takes) as a mapping."""
    out: dict[str, int] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit():
            raise LabelMapError(f"label map entry {item!r} is not ROLE=INDEX")
        out[key.strip().lower()] = int(value)
    return out


def _norm(name: str) -> str:
    return name.strip().lower()


def _find(labels: Mapping[int, str], names: frozenset[str]) -> int | None:
    hits = [i for i, name in labels.items() if _norm(name) in names]
    if len(hits) > 1:
        raise LabelMapError(f"several labels ({[labels[i] for i in hits]}) match the same role")
    return hits[0] if hits else None


def _opt_int(value: int | None) -> int | None:
    return None if value is None else int(value)


def _indexed(id2label: Mapping[str | int, str]) -> dict[int, str]:
    """``id2label`` with its keys as output indices. Keys that are no indices ("supported":
    1, a ``label2id`` pasted in its place) are refused by name: ``int()`` of one crashed the
    start with a traceback (a review)."""
    if not isinstance(id2label, Mapping):
        raise LabelMapError(f"the model config's id2label must map output indices to names, "
                            f"not be {type(id2label).__name__}")
    out = {}
    for key, name in id2label.items():
        try:
            index = int(key)
        except (TypeError, ValueError):
            raise LabelMapError(
                f"the model config's id2label has the key {key!r}, which is no output index: it "
                'maps indices to names ({"0": "unsupported", "1": "supported"}); is it '
                "label2id?") from None
        if index < 0:
            raise LabelMapError(f"the model config's id2label has the negative index {key!r}")
        out[index] = str(name)
    return out
