"""Evaluating halt quality: replay labelled records through the server over a real WebSocket.

``python -m stream_guard.eval DATA.jsonl --report out.json`` (``stream-guard eval``).
"""

from stream_guard.eval.cli import add_eval_command, main

__all__ = ["add_eval_command", "main"]
