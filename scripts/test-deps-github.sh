#!/usr/bin/env bash
# Installs what the GitHub client tests (tests/forge_github.rs) run from npm into .test-deps/
# (ignored by git), beside scripts/test-deps.sh's packages:
#   @stoplight/prism-cli  Prism, a proxy that validates every request against an OpenAPI spec;
#   @octokit/openapi      GitHub's official OpenAPI description of the REST API.
# Tests look in $PATCHWRIGHT_TEST_DEPS, else <crate>/.test-deps. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${PATCHWRIGHT_TEST_DEPS:-.test-deps}"
prism="$dest/node_modules/.bin/prism"
spec="$dest/node_modules/@octokit/openapi/generated/api.github.com.json"
if [ -x "$prism" ] && [ -f "$spec" ]; then
  echo "test-deps-github: already installed in $dest"
  exit 0
fi
command -v npm >/dev/null || { echo "test-deps-github: npm is required (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dest"
npm install --prefix "$dest" --no-audit --no-fund --loglevel=error @stoplight/prism-cli@5 @octokit/openapi
test -x "$prism" || { echo "test-deps-github: $prism missing after install" >&2; exit 1; }
test -f "$spec" || { echo "test-deps-github: $spec missing after install" >&2; exit 1; }
echo "test-deps-github: installed in $dest"
