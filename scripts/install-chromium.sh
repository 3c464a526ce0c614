#!/usr/bin/env bash
# Installs Chromium for the browser test (test/ui/web-ui.test.ts), which drives it through playwright-core at
# /usr/bin/chromium. playwright-core downloads no browser of its own, so CI calls this before `npm test`.
# Idempotent: does nothing when Chromium is already there, so it costs nothing on a warm machine.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi

# CI runs as root; elsewhere use sudo when it is available.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-chromium: /usr/bin/chromium is missing and this is not root (no sudo); install the 'chromium' package" >&2
    exit 1
  fi
fi

# Non-interactive: no prompts from apt or debconf (tzdata and friends) in CI. Recommends are skipped (they pull
# in a GPU driver stack, upower, xdg-utils); fonts-liberation is the one recommend we want, for legible screenshots.
# `env` because sudo does not pass DEBIAN_FRONTEND through.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation
/usr/bin/chromium --version
