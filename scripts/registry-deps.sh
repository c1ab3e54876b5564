#!/usr/bin/env bash
# Installs what tests/registry_real.rs runs: Debian's `docker-registry` (CNCF Distribution 2.8,
# the real OCI distribution server the registry client is tested against) and `htpasswd`
# (apache2-utils) for its basic-auth variant. tests/registry_token.rs (its `auth.token`
# variant) and benches/registry.rs need nothing more. Idempotent; quiet when already installed.
set -euo pipefail
missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || missing+=(apache2-utils)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The package's postinst starts a system service on :5000; the tests start their own on free
# ports, so keep it from starting one (policy-rc.d 101 = "not allowed").
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
