"""The root of the exceptions stream-guard raises on purpose.

Every deliberate refusal or failure (a bad setting, a model that fails its checks, a protocol
violation, the state store gone, a data file that is not records) derives from
:class:`GuardError`, beside the builtin it refines (``ValueError``, ``KeyError``...), so a caller
can tell "stream-guard said no" from a bug with one ``except``. A leaf module: it imports nothing.
"""

from __future__ import annotations


class GuardError(Exception):
    """Raised on purpose by stream-guard; the message says what to do about it."""
