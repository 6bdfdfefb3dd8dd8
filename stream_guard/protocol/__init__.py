"""Protocol v1: the frames a client and the server exchange, their validation and error codes."""
