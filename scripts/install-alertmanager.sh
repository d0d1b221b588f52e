#!/usr/bin/env bash
# Install the real Prometheus Alertmanager for the end-to-end intake test, once.
# Idempotent: does nothing when the binary is already on PATH.  The Debian package may
# enable its own service; the tests never use it (they start their own process on a free
# loopback port), so we do not start, stop or rely on it.
set -euo pipefail

if command -v prometheus-alertmanager >/dev/null 2>&1; then
  exit 0
fi
echo "Installing prometheus-alertmanager for the end-to-end intake test"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
# policy-rc.d exit 101 keeps invoke-rc.d from starting the packaged service during install.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod +x "$POLICY"
  CREATED_POLICY=1
fi
cleanup() { if [ "$CREATED_POLICY" = 1 ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager
command -v prometheus-alertmanager >/dev/null
