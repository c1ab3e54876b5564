#!/usr/bin/env bash
# Installs what the service tests read from npm into .test-deps/ (ignored by git):
#   @octokit/webhooks-examples  GitHub's example webhook payloads (tests/service_webhook.rs).
# Tests look in $PATCHWRIGHT_TEST_DEPS, else <crate>/.test-deps. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${PATCHWRIGHT_TEST_DEPS:-.test-deps}"
examples="$dest/node_modules/@octokit/webhooks-examples/api.github.com/index.json"
if [ -f "$examples" ]; then
  echo "test-deps: already installed in $dest"
  exit 0
fi
command -v npm >/dev/null || { echo "test-deps: npm is required (apt-get install npm)" >&2; exit 1; }
mkdir -p "$dest"
npm install --prefix "$dest" --no-audit --no-fund --loglevel=error @octokit/webhooks-examples@7
test -f "$examples" || { echo "test-deps: $examples missing after install" >&2; exit 1; }
echo "test-deps: installed in $dest"
