"""Example: put stream-guard between an LLM token stream and the terminal.

Streams the demo's scripted answer (clients/js/demo/scenario.json) word by word through
:func:`stream_guard.client.guard` and prints what may be shown. Any async iterator of text chunks
works in place of the scripted one, e.g. an OpenAI-style stream::

    async def openai_tokens(client, messages):
        stream = await client.chat.completions.create(model="...", messages=messages,
                                                      stream=True)
        try:
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
        finally:
            await stream.close()  # runs when guard() stops the stream on a halt

    STREAM_GUARD_API_KEY=dev-key-change-me-0001 \\
        python clients/python/guard_llm.py --server ws://127.0.0.1:8765 --mode observe
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from stream_guard.client import AuthError, ConnectError, GuardClient, guard

SCENARIO = Path(__file__).resolve().parents[1] / "js" / "demo" / "scenario.json"


async def scripted_llm(text: str, delay_s: float) -> AsyncIterator[str]:
    for token in re.findall(r"\S+\s*", text):
        await asyncio.sleep(delay_s)
        yield token


async def run(server: str, mode: str, delay_s: float) -> int:
    scenario = json.loads(SCENARIO.read_text(encoding="utf-8"))
    async with GuardClient(server, api_key=os.environ.get("STREAM_GUARD_API_KEY")) as client:
        # once connected: a refused connection's error is not left after a dangling "A: "
        print(f"Q: {scenario['question']}\nA: ", end="", flush=True)
        pieces = guard(scripted_llm(scenario["answer"], delay_s), client,
                       context=scenario["evidence"], prompt=scenario["question"],
                       mode="holdback" if mode == "holdback" else "observe")
        async for piece in pieces:
            print(piece, end="", flush=True)
    result = pieces.result
    assert result is not None
    print()
    if result.halt is None:
        return 0
    halt = result.halt
    print(f"\n-- halted ({halt.reason}) at character {halt.at}: {halt.text!r}")
    if result.retract_from is not None:
        print(f"-- retract what was shown from character {result.retract_from}; the valid "
              f"answer is:\n{result.text_shown[:result.retract_from].rstrip()}")
    for item in halt.evidence:
        print(f"-- evidence {item.id} ({item.score:.2f}): {item.text}")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="ws://127.0.0.1:8765")
    parser.add_argument("--mode", choices=("observe", "holdback"), default="observe")
    parser.add_argument("--delay", type=float, default=0.03, help="seconds between tokens")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args.server, args.mode, args.delay))
    except (AuthError, ConnectError) as exc:  # said in one line, not as a traceback
        hint = " (STREAM_GUARD_API_KEY: a key of that server)" if isinstance(exc, AuthError) else ""
        print(f"error: {exc}{hint}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
