"""Every exception stream-guard raises on purpose shares one root, beside its builtin."""

from __future__ import annotations

from stream_guard.config import SettingsError
from stream_guard.dataset import RecordError
from stream_guard.evidence.reader import UnknownCollectionError
from stream_guard.evidence.store import StoreError
from stream_guard.exceptions import GuardError
from stream_guard.models.devices import DeviceUnavailableError
from stream_guard.models.hf import ModelFormatError
from stream_guard.models.labels import LabelMapError
from stream_guard.models.packaged import ModelIntegrityError, ModelNotFoundError
from stream_guard.protocol.errors import ErrorCode, ProtocolError
from stream_guard.scoring.engine import NoEvidence
from stream_guard.scoring.scheduler import SchedulerClosed
from stream_guard.state.base import StateUnavailable


def test_one_root_and_the_builtins_kept() -> None:
    for cls in (SettingsError, RecordError, UnknownCollectionError, StoreError,
                DeviceUnavailableError, ModelFormatError, LabelMapError, ModelIntegrityError,
                ModelNotFoundError, ProtocolError, NoEvidence, SchedulerClosed, StateUnavailable):
        assert issubclass(cls, GuardError), cls
    assert issubclass(SettingsError, ValueError) and issubclass(UnknownCollectionError, KeyError)
    assert isinstance(ProtocolError(ErrorCode.BAD_FRAME, "x"), GuardError)
