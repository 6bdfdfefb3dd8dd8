#!/usr/bin/env bash
# Start or stop a local Docker engine for docker/build-local.sh and tests/test_docker.py.
#
#   docker/engine.sh start   # exit 0 once `docker info` answers; non-zero, with the reason, if
#                            # no engine answers and none can be started here
#   docker/engine.sh stop    # stops the dockerd that `start` started, and nothing else
#
# The engine runs without a bridge network and without iptables rules (--bridge=none
# --iptables=false): builds run with --network none and containers with --network host, so all
# traffic stays on loopback and the host's firewall is left alone. An engine that already
# answers is used as it is and never stopped by this script.
set -euo pipefail

state_dir="${STREAM_GUARD_BUILD_DOCKERD_DIR:-${XDG_RUNTIME_DIR:-/tmp}/stream-guard-dockerd}"
pidfile="$state_dir/dockerd.pid"
logfile="$state_dir/dockerd.log"

answers() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

start() {
    if ! command -v docker >/dev/null 2>&1; then
        echo "engine.sh: no docker CLI on PATH (Debian: apt-get install docker.io)" >&2
        return 1
    fi
    if answers; then
        return 0
    fi
    if ! command -v dockerd >/dev/null 2>&1; then
        echo "engine.sh: no Docker engine answers and dockerd is not installed" \
             "(Debian: apt-get install docker.io)" >&2
        return 1
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "engine.sh: no Docker engine answers, and starting dockerd needs root" >&2
        return 1
    fi
    mkdir -p "$state_dir"
    # setsid: the engine outlives this script (and the test run or CI step that called it)
    # until `stop`; containerd is started by dockerd itself.
    setsid dockerd --bridge=none --iptables=false --pidfile "$state_dir/dockerd.daemon.pid" \
        >"$logfile" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 120); do
        if answers; then
            echo "engine.sh: dockerd $(docker info --format '{{.ServerVersion}}') started" \
                 "(pid $(cat "$pidfile"), log $logfile)" >&2
            return 0
        fi
        if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            break
        fi
        sleep 0.5
    done
    echo "engine.sh: dockerd did not start; the end of $logfile:" >&2
    tail -n 20 "$logfile" >&2 || true
    stop
    return 1
}

stop() {
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile")
    rm -f "$pidfile"
    # a stale pidfile (a reboot, an engine that died) must not make us signal someone else
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    # dockerd stops its containers (their own stop timeouts) before it exits
    for _ in $(seq 60); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
