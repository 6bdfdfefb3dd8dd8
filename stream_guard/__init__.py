"""stream-guard: streaming oversight for LLM output.

An application streams its model's output here while it is generated; stream-guard cuts it into
claim windows, grounds each window in evidence, and halts the stream the moment it stops being
supported.
"""

__version__ = "0.1.0"
