#!/usr/bin/env bash
# Installs the package managers and local registries the re-lock tests (tests/relock_*.rs) run,
# into .test-deps/ (ignored by git), beside scripts/test-deps.sh's packages:
#   verdaccio@6   an npm registry the tests start on loopback with no uplinks;
#   yarn@1        the classic yarn that re-locks yarn.lock v1.
# cargo comes with the Rust toolchain; the crates registry is a static sparse index the tests
# serve themselves. Tests look in $PATCHWRIGHT_TEST_DEPS, else <crate>/.test-deps, and skip (with a
# message) a package manager that is missing. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${PATCHWRIGHT_TEST_DEPS:-.test-deps}"
verdaccio="$dest/node_modules/.bin/verdaccio"
yarn="$dest/node_modules/.bin/yarn"
if [ -x "$verdaccio" ] && [ -x "$yarn" ]; then
  echo "relock-deps: already installed in $dest"
  exit 0
fi
command -v npm >/dev/null || { echo "relock-deps: npm is required (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dest"
npm install --prefix "$dest" --no-audit --no-fund --loglevel=error verdaccio@6 yarn@1
test -x "$verdaccio" || { echo "relock-deps: $verdaccio missing after install" >&2; exit 1; }
test -x "$yarn" || { echo "relock-deps: $yarn missing after install" >&2; exit 1; }
echo "relock-deps: installed in $dest"
