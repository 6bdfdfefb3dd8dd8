"""The runnable Python examples in clients/python against a real server, so they cannot rot."""

from __future__ import annotations

import pytest

from stream_guard.server.app import Server
from tests.conftest import load_example
from tests.wsclient import API_KEY

guard_llm = load_example("guard_llm")


@pytest.mark.parametrize("mode", ["observe", "holdback"])
async def test_guard_llm_example_reports_the_halt(server: Server, mode: str,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("STREAM_GUARD_API_KEY", API_KEY)
    assert await guard_llm.run(f"ws://127.0.0.1:{server.port}", mode, 0.001) == 1
    out = capsys.readouterr().out
    answer, _, report = out.partition("-- halted")
    assert "Standard shipping takes 3 to 5 business days" in answer
    assert ("lifetime warranty" in answer) == (mode == "observe")
    assert "(unsupported" in report or "(contradicted" in report
    assert ("retract what was shown" in report) == (mode == "observe")
    assert "-- evidence warranty" in report
