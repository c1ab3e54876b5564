#!/usr/bin/env bash
# Installs the real browser the dashboard test (tests/web_browser.rs) drives: Debian's
# `chromium` and its WebDriver server `chromium-driver`. Safe to run again. Outside CI a failed
# install only warns (the browser test then skips, saying why); in CI (CI=true) it fails the run.
set -euo pipefail
ci=false
case "${CI:-}" in true | 1 | yes) ci=true ;; esac
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  echo "browser-deps: chromium and chromedriver already installed"
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium chromium-driver; } >&2; then
  if [ "$ci" = true ]; then
    echo "browser-deps: cannot install chromium and chromium-driver; CI=true requires them" >&2
    exit 1
  fi
  echo "browser-deps: cannot install chromium and chromium-driver; the browser test will skip" >&2
fi
