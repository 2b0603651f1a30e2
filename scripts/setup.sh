#!/usr/bin/env bash
# One-time set-up: system packages (when root), a virtualenv in .venv with pinned packages.
# Idempotent: re-running with unchanged requirements only checks the stamp.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium + chromium-driver: the console's browser tests (tests/console) drive Debian's Chromium
SYSTEM_PACKAGES="libportaudio2 espeak-ng sox chromium chromium-driver"
missing=""
for pkg in $SYSTEM_PACKAGES; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "[setup] installing system packages:$missing"
    (apt-get update -qq || true) >/dev/null 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "[setup] please install system packages:$missing (e.g. sudo apt-get install$missing);"
    echo "[setup] without them voice I/O falls back to text, espeak-ng TTS is unavailable and the console's"
    echo "[setup] browser tests are skipped."
  fi
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
stamp=.venv/.requirements.sha
want=$(cat requirements.txt requirements-whisper.txt | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -d .venv ] || "$PY" -m venv .venv
echo "[setup] installing Python packages into .venv (about a minute)"
pip_quiet() { .venv/bin/pip "$@" 2>&1 | { grep -v "is neither a file nor a directory" || true; }; return "${PIPESTATUS[0]}"; }
pip_quiet install -q --disable-pip-version-check -r requirements.txt
# openai-whisper's declared deps pull triton and a CUDA torch; its runtime needs are in requirements.txt
pip_quiet install -q --disable-pip-version-check --no-deps -r requirements-whisper.txt
echo "$want" > "$stamp"
echo "[setup] done"
