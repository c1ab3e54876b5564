#!/usr/bin/env bash
# Installs what the image tests (tests/image.rs) and benchmarks (benches/image.rs) run: Debian's
# `zstd` command, which writes the zstd layers they read (a real encoder, not the reader's own
# crate). Safe to run again.
set -euo pipefail
if command -v zstd >/dev/null; then
  echo "image-deps: zstd already installed"
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq && apt-get install -y -qq zstd
else
  echo "image-deps: zstd is required (apt-get install zstd)" >&2
  exit 1
fi
echo "image-deps: zstd installed"
