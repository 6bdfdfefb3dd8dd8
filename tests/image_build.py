"""The CPU image's build for ``tests/test_docker.py``, begun as soon as the session knows it
needs one.

``docker/build-local.sh`` takes about a minute and a half, most of it waiting on the Docker
daemon (pip installing wheels in the build container, layers written to disk) rather than on this
process's cores. Started when collection ends, where an engine already answers (``.ci/run``
starts one first), it runs beside the rest of the suite (``conftest.py`` puts the image's
tests last) instead of in front of their first test. Where no engine answers yet, the
``image`` fixture starts one and builds then, as before.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[1]
TAG = "stream-guard:test"


class ImageBuild:
    """One run of ``docker/build-local.sh TAG``, its output kept in temporary files."""

    def __init__(self, tag: str) -> None:
        # closed by stop(), which wait() ends with: they outlive this call
        self._out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        # its own process group, so that stop() reaches pip and the docker CLI under it too
        self._proc = subprocess.Popen(["bash", str(ROOT / "docker" / "build-local.sh"), tag],
                                      stdout=self._out, stderr=self._err,
                                      stdin=subprocess.DEVNULL, start_new_session=True)

    def wait(self, timeout: float) -> tuple[int, str, str]:
        """Exit status, stdout and the tail of stderr once the build ends."""
        try:
            code = self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise
        out, err = self._read(self._out), self._read(self._err)[-6000:]
        self.stop()
        return code, out, err

    def stop(self) -> None:
        """Ends a build still running (a session that stopped early) and drops its output."""
        if self._proc.poll() is None:
            # SIGTERM first: the script's EXIT trap removes its staging folder
            with contextlib.suppress(ProcessLookupError):  # the group ended meanwhile
                os.killpg(self._proc.pid, signal.SIGTERM)
                try:
                    self._proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        self._out.close()
        self._err.close()

    @staticmethod
    def _read(fh: IO[bytes]) -> str:
        fh.seek(0)
        return fh.read().decode("utf-8", "replace")


def engine_answers() -> bool:
    """Whether a Docker engine answers now, without starting one."""
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15,
                              check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


EARLY_BUILD = pytest.StashKey[ImageBuild]()


def start_early(session: pytest.Session) -> None:
    """Begin the build when a collected test needs the image and an engine answers."""
    if any(item.get_closest_marker("docker") for item in session.items) and engine_answers():
        session.config.stash[EARLY_BUILD] = ImageBuild(TAG)


def take(config: pytest.Config) -> ImageBuild:
    """The build begun early, else one begun now."""
    build = config.stash.get(EARLY_BUILD, None)
    return build if build is not None else ImageBuild(TAG)


def stop_early(config: pytest.Config) -> None:
    build = config.stash.get(EARLY_BUILD, None)
    if build is not None:
        build.stop()
