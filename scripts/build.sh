#!/usr/bin/env bash
# Configures and builds strom into a build directory.
#   scripts/build.sh [BUILD_DIR [extra cmake arguments...]]   (default BUILD_DIR: build)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
mkdir -p "$dir"
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir/configure.log" 2>&1 \
  || { cat "$dir/configure.log"; exit 1; }
cmake --build "$dir" -j "$(nproc)" -- --no-print-directory >"$dir/build.log" 2>&1 \
  || { cat "$dir/build.log"; exit 1; }
