#!/usr/bin/env bash
# The Docker image's build and run steps, one per sub-command.  The Dockerfile
# runs them; tests/test_deploy.py runs them too (system, python, package,
# models, check), so what the image does is what the tests do.
#
#   docker_steps.sh system            Debian packages the app needs (ffmpeg); skips what is installed
#   docker_steps.sh python            the pinned requirements (requirements.txt) into $PYTHON, then pip check
#                                     TORCH_VARIANT=cpu takes torch from the CPU wheel index (a smaller image)
#   docker_steps.sh package SRC [DIR] vidext itself from the source tree SRC (no dependencies: all pinned
#                                     above), into $PYTHON's site-packages or into DIR (pip --target)
#   docker_steps.sh models NAMES      pre-download models (e.g. "rife-4.25 musicgen-small") into the cache
#   docker_steps.sh calibrate [ARGS]  RIFE's full CPU calibrations for the common sizes, on this machine
#   docker_steps.sh user NAME DIR...  a non-root user owning the given folders
#   docker_steps.sh check [URL]       the health check: the app answers with its four API endpoints
#   docker_steps.sh ray head          this container as the head of a Ray cluster for `vidext batch`
#                                     (port $RAY_PORT, default 6379; no dashboard, no usage stats)
#   docker_steps.sh ray worker ADDR   this container as a worker of the cluster whose head is ADDR
#                                     (host:port); every node needs the same $RAY_AUTH_TOKEN
set -euo pipefail

PYTHON=${PYTHON:-python3}
# vidext is built without build isolation (the image's and CI's pip need no index for it):
# the setuptools it builds with is pinned here (pyproject.toml asks for >= 68).
BUILD_SETUPTOOLS=setuptools==84.2.1
here="$(cd "$(dirname "$0")/.." && pwd)"

step=${1:-}
shift || true
case "$step" in
  system)
    missing=()
    for pkg in ffmpeg; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    if [ ${#missing[@]} -gt 0 ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
      rm -rf /var/lib/apt/lists/*
    fi
    command -v ffmpeg >/dev/null
    ;;
  python)
    extra=()
    if [ "${TORCH_VARIANT:-cuda}" = "cpu" ]; then
      extra+=(--extra-index-url https://download.pytorch.org/whl/cpu)
    elif [ "${TORCH_VARIANT:-cuda}" != "cuda" ]; then
      echo "docker_steps: TORCH_VARIANT must be cuda or cpu, got ${TORCH_VARIANT}" >&2; exit 2
    fi
    "$PYTHON" -m pip install --no-cache-dir --disable-pip-version-check -q "${extra[@]}" \
      -r "$here/requirements.txt" "$BUILD_SETUPTOOLS"
    "$PYTHON" -m pip check
    ;;
  package)
    src=${1:?usage: docker_steps.sh package SRC [DIR]}
    target=(); [ -n "${2:-}" ] && target=(--target "$2")
    "$PYTHON" -m pip install --no-cache-dir --disable-pip-version-check -q --no-deps --no-build-isolation \
      "${target[@]}" "$src"
    ;;
  models)
    names="${*:-}"
    if [ -n "${names// /}" ]; then
      "$PYTHON" -m vidext.webapp.prefetch $names
    fi
    ;;
  calibrate)
    "$PYTHON" -m vidext.interpolation.rife.precalibrate "$@"
    ;;
  user)
    name=${1:?usage: docker_steps.sh user NAME DIR...}; shift
    id -u "$name" >/dev/null 2>&1 || useradd --create-home --uid 1000 --shell /usr/sbin/nologin "$name"
    for dir in "$@"; do mkdir -p "$dir"; chown -R "$name:$name" "$dir"; done
    ;;
  check)
    "$PYTHON" -m vidext.webapp.health "$@"
    ;;
  ray)
    role=${1:?usage: docker_steps.sh ray head|worker [ADDR]}
    # stays in the foreground (--block): the container lives as long as its Ray node
    opts=(--block --disable-usage-stats)
    [ -n "${RAY_NUM_CPUS:-}" ] && opts+=(--num-cpus "$RAY_NUM_CPUS")
    [ -n "${RAY_NODE_IP:-}" ] && opts+=(--node-ip-address "$RAY_NODE_IP")
    export RAY_USAGE_STATS_ENABLED=0
    case "$role" in
      head) exec "$PYTHON" -m ray.scripts.scripts start --head --port "${RAY_PORT:-6379}" \
              --include-dashboard false "${opts[@]}" ;;
      worker) exec "$PYTHON" -m ray.scripts.scripts start --address "${2:?usage: docker_steps.sh ray worker ADDR}" \
              "${opts[@]}" ;;
      *) echo "docker_steps: ray takes head or worker, got $role" >&2; exit 2 ;;
    esac
    ;;
  *)
    sed -n '2,18p' "$0" >&2
    exit 2
    ;;
esac
