"""The HTTP paths of protocol v1: the WebSocket upgrade and the browser-ticket endpoint, one
definition for the server's routes and the clients."""

STREAM_PATH = "/v1/stream"
TICKETS_PATH = "/v1/tickets"
