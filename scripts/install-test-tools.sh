#!/usr/bin/env bash
# Installs the two Debian tools some tests drive, only if they are missing (so it costs nothing on a warm machine):
#   chromium        the browser test (test/ui/web-ui.test.ts), through playwright-core, which downloads no browser
#   docker-compose  the compose file check (test/deploy/compose.test.ts): `docker-compose config -q`
# CI calls it before `npm test`.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-liberation)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
if [ ${#missing[@]} -eq 0 ]; then
  echo "test tools already installed: $(/usr/bin/chromium --version 2>/dev/null), $(docker-compose version --short 2>/dev/null || docker compose version --short)"
  exit 0
fi

# CI runs as root; elsewhere use sudo when it is available.
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-test-tools: missing ${missing[*]} and this is not root (no sudo); install those Debian packages" >&2
    exit 1
  fi
fi

# Non-interactive: no prompts from apt or debconf in CI. Recommends are skipped (for chromium they pull in a GPU
# driver stack); fonts-liberation is the one we want, for legible screenshots. `env` because sudo drops
# DEBIAN_FRONTEND.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
