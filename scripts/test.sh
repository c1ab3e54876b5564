#!/usr/bin/env bash
# Runs every test: installs the npm packages the service tests read (scripts/test-deps.sh), the
# package managers and local registries the re-lock tests run (scripts/relock-deps.sh), the
# container registry the registry tests start (scripts/registry-deps.sh),
# zstd command the image tests write layers with (scripts/image-deps.sh),
# starts PostgreSQL if it is installed but stopped (scripts/services.sh), then `cargo test`.
# Extra arguments go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/test-deps.sh
if [ -x scripts/test-deps-github.sh ]; then scripts/test-deps-github.sh; fi
if [ -x scripts/relock-deps.sh ]; then scripts/relock-deps.sh; fi
if [ -x scripts/registry-deps.sh ]; then scripts/registry-deps.sh; fi
scripts/browser-deps.sh
if [ -x scripts/image-deps.sh ]; then scripts/image-deps.sh; fi
url="$(scripts/services.sh)"
if [ -n "$url" ]; then export DATABASE_URL="$url"; fi
cargo test --locked "$@"
