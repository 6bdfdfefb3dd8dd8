"""The HTTP paths of protocol v1: the WebSocket upgrade and the browser-ticket endpoint, one
definition for the server's routes and the clients."""

from urllib.parse import urlsplit

STREAM_PATH = "/v1/stream"
TICKETS_PATH = "/v1/tickets"


def request_path(target: str) -> str | None:
    """The path of a request target as sent. An origin-form target ("/livez?x=1", RFC 9112
    3.2.1) is cut at its query; urlsplit alone would read "//livez" as a host and no path. An
    absolute-form one ("http://host/livez", as proxies may send) is the path of that URL; None
    when it is no URL ("http://[/v1/stream": an unclosed IPv6 host)."""
    if target.startswith("/"):
        return target.partition("?")[0]
    try:
        return urlsplit(target).path
    except ValueError:
        return None
