"""A page's own backend, minimal: serves the browser demo as static files and mints tickets.

This is the shape of the real thing: the API key stays on the server side, and the page asks
``POST /ticket`` for a single-use ticket before each WebSocket connection. Standard library only.

    STREAM_GUARD_API_KEY=dev-key-change-me-0001 \\
        python clients/python/demo_backend.py --server http://127.0.0.1:8765 --port 8000

then open the URL it prints. The stream-guard server must allow the page's Origin:
``STREAM_GUARD_ALLOWED_ORIGINS=http://127.0.0.1:8000``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from stream_guard.client.errors import AuthError, GuardClientError, TicketUnavailableError
from stream_guard.client.tickets import mint_ticket_sync

STATIC_ROOT = Path(__file__).resolve().parents[1] / "js"


class BackendServer(ThreadingHTTPServer):
    """The HTTP server, holding what ticket minting needs: where stream-guard is, and the key."""

    def __init__(self, address: tuple[str, int], guard_url: str, api_key: str) -> None:
        super().__init__(address, functools.partial(DemoBackend, directory=str(STATIC_ROOT)))
        self.guard_url = guard_url
        self.api_key = api_key


class DemoBackend(SimpleHTTPRequestHandler):
    """Static files from ``clients/js`` plus ``POST /ticket``."""

    server: BackendServer

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/ticket":
            self.send_error(404)
            return
        retry_after: float | None = None
        try:
            body = {"ticket": mint_ticket_sync(self.server.guard_url, self.server.api_key)}
            status = 200
        except AuthError as exc:  # this backend's key: final, the page should not retry
            body, status = {"error": f"stream-guard refused this backend's key: {exc}"}, 500
        except TicketUnavailableError as exc:  # briefly unable, or restarting: retry
            body, status, retry_after = {"error": str(exc)}, 503, exc.retry_after
        except GuardClientError as exc:
            body, status = {"error": str(exc)}, 502
        payload = json.dumps(body).encode()
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", str(max(1, round(retry_after))))
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        return  # quiet: the demo prints its URL, nothing else matters here


def demo_url(backend: BackendServer, server_url: str) -> str:
    host, port = backend.socket.getsockname()[:2]
    parts = urlsplit(server_url)
    ws = urlunsplit(({"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme),
                     parts.netloc, "", "", ""))
    return f"http://{host}:{port}/demo/index.html?server={ws}&ticketUrl=/ticket"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="http://127.0.0.1:8765",
                        help="the stream-guard server (http(s):// or ws(s)://)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    api_key = os.environ.get("STREAM_GUARD_API_KEY")
    if not api_key:
        print("set STREAM_GUARD_API_KEY to a key the stream-guard server accepts", file=sys.stderr)
        return 2
    backend = BackendServer((args.host, args.port), args.server, api_key)
    print(f"open {demo_url(backend, args.server)}")
    print(f"(the stream-guard server needs STREAM_GUARD_ALLOWED_ORIGINS=http://{args.host}:"
          f"{backend.server_address[1]})")
    with contextlib.suppress(KeyboardInterrupt):
        backend.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
