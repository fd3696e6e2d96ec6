#!/usr/bin/env bash
# Builds llama.cpp's own server (`llama-server`: parallel slots, continuous batching, an
# OpenAI-compatible API) from the llama.cpp sources that llama-cpp-python's sdist vendors, so
# the server and the in-process model run the same llama.cpp. Only the llama-server target is
# built, statically, with the same portable CPU flags as the llama-cpp-python wheel.
#
#   bash scripts/build_llama_server.sh        (scripts/setup.sh --server and --test call it)
#
# The binary is cached under ~/.cache/erica/llama-server/<version>-<flags hash>/ and
# ~/.cache/erica/llama-server/current points at it; a second run with the same version and
# flags takes a second. Erica finds it there (or set ERICA_LLM_SERVER_BINARY).
# Building takes ~10-15 min on 2 cores (run with nice; JOBS=2 by default).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=0.3.36   # = llama-cpp-python in pyproject.toml
SDIST_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
# No web UI (nothing is downloaded at build time), no HTTPS, one static binary.
FIXED="-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF \
-DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF \
-DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF"
JOBS=${JOBS:-2}
PIP=${PIP:-.venv/bin/pip}
CACHE=${ERICA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/erica}/llama-server
log() { printf '\033[1m[llama-server]\033[0m %s\n' "$*" >&2; }

key="$VERSION-$(printf '%s %s' "$FLAGS" "$FIXED" | sha256sum | cut -c1-12)"
out="$CACHE/$key"
if [ -x "$out/llama-server" ] && "$out/llama-server" --version >/dev/null 2>&1; then
  log "cached: $out/llama-server"
else
  for tool in cmake c++; do
    command -v "$tool" >/dev/null || { log "$tool is missing: install it (apt-get install cmake g++)"; exit 1; }
  done
  work=$(mktemp -d "${TMPDIR:-/tmp}/erica-llama-server.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  sdist="$CACHE/src/llama_cpp_python-$VERSION.tar.gz"
  if [ ! -f "$sdist" ] || ! echo "$SDIST_SHA256  $sdist" | sha256sum -c --quiet 2>/dev/null; then
    log "downloading the llama-cpp-python $VERSION sdist (pip, source only)"
    mkdir -p "$CACHE/src"
    "$PIP" download -q "llama-cpp-python==$VERSION" --no-binary :all: --no-deps -d "$work/dl"
    mv "$work/dl/llama_cpp_python-$VERSION.tar.gz" "$sdist"
  fi
  echo "$SDIST_SHA256  $sdist" | sha256sum -c --quiet \
    || { log "the sdist's sha256 differs from the pinned one: $sdist (delete it and retry)"; exit 1; }
  tar -xzf "$sdist" -C "$work" "llama_cpp_python-$VERSION/vendor/llama.cpp"
  src="$work/llama_cpp_python-$VERSION/vendor/llama.cpp"
  log "building llama-server $key (-j$JOBS; about 10-15 min on 2 cores)"
  # shellcheck disable=SC2086 # the flag lists are word lists on purpose
  cmake -S "$src" -B "$work/build" -G "$(command -v ninja >/dev/null && echo Ninja || echo 'Unix Makefiles')" \
    $FLAGS $FIXED >"$work/configure.log" 2>&1 \
    || { tail -30 "$work/configure.log" >&2; exit 1; }
  nice -n 10 cmake --build "$work/build" --target llama-server -j "$JOBS" >"$work/build.log" 2>&1 \
    || { tail -40 "$work/build.log" >&2; exit 1; }
  mkdir -p "$out.tmp"
  install -m 755 "$work/build/bin/llama-server" "$out.tmp/llama-server"
  printf 'llama-cpp-python %s (sdist sha256 %s)\ncmake %s %s\n' \
    "$VERSION" "$SDIST_SHA256" "$FLAGS" "$FIXED" >"$out.tmp/BUILD-INFO"
  rm -rf "$out" && mv "$out.tmp" "$out"
  log "built: $out/llama-server"
fi
ln -sfn "$key" "$CACHE/current"
"$CACHE/current/llama-server" --version 2>&1 | head -2 >&2
