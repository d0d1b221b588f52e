#!/usr/bin/env bash
# Install Debian's Chromium and its WebDriver for the dashboard test, once.
# Idempotent: does nothing when both binaries are there.  The test drives them through
# selenium with an explicit Service('/usr/bin/chromedriver'), so Selenium Manager never
# downloads a browser of its own (there is no internet beyond the package registries).
set -euo pipefail

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
echo "Installing chromium and chromium-driver for the dashboard test"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  chromium chromium-driver fonts-dejavu-core >/dev/null
test -x /usr/bin/chromium
test -x /usr/bin/chromedriver
