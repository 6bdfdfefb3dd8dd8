"""The browser demo in a real headless Chromium against a real server.

Chromium is driven over the Chrome DevTools Protocol with the ``websockets`` library the project
already depends on, so no browser driver is downloaded. Without ``chromium`` the tests skip,
except under CI (env ``CI`` set), where a missing browser is a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import threading
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import load_example, make_settings, running_server
from tests.wsclient import API_KEY

demo_backend = load_example("demo_backend")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("chromium is required in CI for the browser tests (apt-get install "
                    "chromium)", pytrace=False)
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-port=0"]


class Page:
    """One Chromium tab over CDP: navigate, evaluate, and the console errors it logged."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.errors: list[str] = []
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self._ids)
        await self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if message.get("id") == msg_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]  # type: ignore[no-any-return]
            self._note(message)

    def _note(self, event: dict[str, Any]) -> None:
        if event.get("method") == "Runtime.exceptionThrown":
            self.errors.append(json.dumps(event["params"]["exceptionDetails"])[:500])
        elif event.get("method") == "Runtime.consoleAPICalled" and \
                event["params"]["type"] == "error":
            self.errors.append(json.dumps(event["params"]["args"])[:500])

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, awaitPromise=True,
                                 returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression!r} threw: {result['exceptionDetails']}; "
                                 f"console errors: {self.errors}")
        return result["result"].get("value")

    async def open(self, url: str) -> None:
        await self.call("Page.navigate", url=url)
        for _ in range(200):
            with contextlib.suppress(AssertionError, RuntimeError):
                if await self.evaluate("document.body?.dataset.ready === 'true'"):
                    return
            await asyncio.sleep(0.05)
        raise AssertionError(f"the demo did not load from {url}; console errors: {self.errors}")


@contextlib.asynccontextmanager
async def chromium(tmp_path: Path) -> AsyncIterator[Page]:
    assert CHROMIUM is not None
    profile = tmp_path / "chromium-profile"
    proc = await asyncio.create_subprocess_exec(
        CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().count("\n") >= 1:
                break
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        targets = await asyncio.to_thread(_json, f"http://127.0.0.1:{port}/json/list")
        page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        async with connect(page_ws, max_size=None, open_timeout=30) as ws:
            page = Page(ws)
            await page.call("Runtime.enable")
            await page.call("Page.enable")
            yield page
    finally:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def _json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


# What the page shows in #answer, outside the struck-out claim.
VISIBLE = """(() => {
  const answer = document.querySelector('#answer').cloneNode(true);
  answer.querySelectorAll('del').forEach((d) => d.remove());
  return answer.textContent;
})()"""


async def check_observe_run(page: Page) -> None:
    summary = await page.evaluate("demo.run('observe')")
    assert summary["halted"], f"the scripted answer should halt: {summary}"
    at, sent = summary["at"], summary["sent"]
    claim = await page.evaluate("document.querySelector('#answer del.halted-claim')?.textContent")
    assert claim and claim.startswith("Every purchase also comes with a lifetime warranty")
    assert sent.index(claim) == at
    # Text before the halt offset stays; everything from it on is gone but the struck claim.
    assert (await page.evaluate(VISIBLE)).strip() == sent[:at].strip()
    rest = sent[at + len(claim):].strip()
    if rest:  # the policy may halt before anything after the claim was sent
        assert rest not in await page.evaluate("document.querySelector('#answer').innerText")
    halt_panel = await page.evaluate("document.querySelector('#halt:not([hidden])')?.innerText")
    assert halt_panel and "Halted" in halt_panel
    evidence = await page.evaluate(
        "[...document.querySelectorAll('#halt .halt-evidence li')].map((li) => li.textContent)")
    assert evidence and any("warranty" in e for e in evidence), evidence
    assert await page.evaluate("document.querySelectorAll('#answer .supported').length") >= 2


async def test_demo_served_by_the_server_renders_the_halt(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, serve_demo=True, auth_disabled=True)
    async with running_server(settings) as srv, chromium(tmp_path) as page:
        await page.open(f"http://127.0.0.1:{srv.port}/demo/?delay=3")
        assert await page.evaluate("location.pathname") == "/demo/demo/index.html"
        await check_observe_run(page)
        assert not page.errors, page.errors


async def test_demo_holdback_never_shows_unverified_text(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, serve_demo=True, auth_disabled=True)
    async with running_server(settings) as srv, chromium(tmp_path) as page:
        await page.open(f"http://127.0.0.1:{srv.port}/demo/demo/index.html?delay=3")
        # Record every state of the answer while it streams.
        await page.evaluate("""(() => {
          window.seen = [];
          new MutationObserver(() => seen.push(document.querySelector('#answer').innerText))
            .observe(document.querySelector('#answer'),
                     {childList: true, subtree: true, characterData: true});
        })()""")
        summary = await page.evaluate("demo.run('holdback')")
        assert summary["halted"]
        seen = await page.evaluate("seen")
        assert len(seen) > 3
        assert not any("lifetime" in s or "Zurich" in s for s in seen), seen
        shown = await page.evaluate("document.querySelector('#answer').innerText")
        assert shown.strip() and summary["sent"].startswith(shown.strip())
        assert "Standard shipping takes 3 to 5 business days" in shown
        assert await page.evaluate("document.querySelector('#answer del')") is None
        panel = await page.evaluate("document.querySelector('#halt').innerText")
        assert "withheld" in panel and "warranty" in panel.lower()
        assert not page.errors, page.errors


@contextlib.contextmanager
def static_backend() -> Iterator[Any]:
    """The example backend (static files + tickets) in a thread; told the server URL later."""
    backend = demo_backend.BackendServer(("127.0.0.1", 0), "", API_KEY)
    thread = threading.Thread(target=backend.serve_forever, daemon=True)
    thread.start()
    try:
        yield backend
    finally:
        backend.shutdown()
        backend.server_close()
        thread.join(5)


async def test_demo_from_a_static_server_with_tickets(tmp_path: Path) -> None:
    with static_backend() as backend:
        origin = f"http://127.0.0.1:{backend.server_address[1]}"
        settings = make_settings(tmp_path, allowed_origins=origin)
        async with chromium(tmp_path) as page:
            async with running_server(settings) as srv:
                port = srv.port
                backend.guard_url = f"http://127.0.0.1:{port}"
                await page.open(f"{origin}/?server=ws://127.0.0.1:{port}&ticketUrl=/ticket"
                                "&delay=3")
                assert await page.evaluate("location.pathname") == "/demo/index.html"
                await check_observe_run(page)
            # The server restarts: the next run reconnects with a fresh ticket.
            async with running_server(make_settings(tmp_path, allowed_origins=origin,
                                                    port=port)):
                await check_observe_run(page)
                assert await page.evaluate("demo.guard.connectionsOpened") == 2
            assert not page.errors, page.errors
