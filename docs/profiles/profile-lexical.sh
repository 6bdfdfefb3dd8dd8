#!/usr/bin/env bash
# py-spy profile of a lexical-tier server under 100 paced streams (needs: pip install py-spy).
# --gil samples only the thread holding the GIL: where the server's Python CPU goes (a thread
# waiting for the GIL is not counted as working).
# Summarise with: python docs/profiles/aggregate.py --busy docs/profiles/lexical-100-streams.speedscope.json
set -e
cd "$(dirname "$0")/../.."  # the repository root
export STREAM_GUARD_API_KEYS="prof-key-0123456789abcdef:loadtest" STREAM_GUARD_TIER=lexical STREAM_GUARD_EMBEDDER=none STREAM_GUARD_LOG_LEVEL=warning STREAM_GUARD_MAX_CONNECTIONS=300 STREAM_GUARD_MAX_CONNECTIONS_PER_IP=300 STREAM_GUARD_RATE_PER_S=500 STREAM_GUARD_PORT=8799
stream-guard serve > /tmp/prof-server.log 2>&1 &
SP=$!
for i in $(seq 50); do curl -s localhost:8799/readyz >/dev/null && break; sleep 0.3; done
py-spy record --gil --rate 250 --format speedscope -o docs/profiles/lexical-100-streams.speedscope.json --pid $SP --duration 20 > /tmp/pyspy.log 2>&1 &
PY=$!
python -m loadtest.run --url ws://127.0.0.1:8799/v1/stream --api-key prof-key-0123456789abcdef --server-pid $SP --streams 100 --duration 15 --out /tmp/profile-run.json 2>&1 | tail -2
wait $PY || true
kill $SP
