#!/usr/bin/env bash
# Installs the two Debian tools some tests drive, only if they are missing (so it costs nothing on a warm machine):
#   chromium        the browser test (test/ui/web-ui.test.ts), through playwright-core, which downloads no browser
#   docker-compose  the compose file check (test/deploy/compose.test.ts): `docker-compose config -q`
#   psql            (postgresql-client) runs deploy/postgres/least-privilege.sh, compose's init script, against a real
#                   PostgreSQL (test/deploy/least-privilege.test.ts), as the postgres image does
#   prometheus      Debian's Prometheus 2.42 and promtool: the committed scrape config, alert rule and its unit test run
#                   against a live stack (test/operate/telemetry.test.ts)
#   go              builds the Temporal server for `npm run test:cluster` (infra/temporal/cluster/server-binary.ts);
#                   any Go >= 1.21 will do, it fetches the pinned toolchain (GOTOOLCHAIN) by itself
# CI calls it before `npm test`.
set -euo pipefail

# Go: Debian's golang-go (1.19 in bookworm) is too old to switch toolchains, so when no Go is installed, take the
# pinned toolchain from the Go module proxy, where it is published as a module (golang.org/toolchain), and unpack it
# under /usr/local/go-toolchain with a `go` on PATH.
GO_TOOLCHAIN_VERSION=go1.27.3
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
  case "$(uname -m)" in x86_64) goarch=amd64 ;; aarch64 | arm64) goarch=arm64 ;; *) goarch="" ;; esac
  # The proxy is the one this machine is configured with (GOPROXY); without one, say what is missing.
  if [ -z "$goarch" ] || [ "$(id -u)" -ne 0 ] || [ -z "${GOPROXY:-}" ]; then
    echo "install-test-tools: no Go found; install Go >= 1.21, or set GOPROXY to fetch it (needed to build the Temporal server for npm run test:cluster)" >&2
  else
    proxy="${GOPROXY%%,*}"
    module="v0.0.1-${GO_TOOLCHAIN_VERSION}.linux-${goarch}"
    tmp="$(mktemp -d)"
    echo "install-test-tools: fetching Go ${GO_TOOLCHAIN_VERSION} (golang.org/toolchain ${module}) from ${proxy}"
    curl -fsSL "${proxy}/golang.org/toolchain/@v/${module}.zip" -o "${tmp}/go.zip"
    python3 -m zipfile -e "${tmp}/go.zip" "${tmp}/x"
    rm -rf /usr/local/go-toolchain
    mv "${tmp}/x/golang.org/toolchain@${module}" /usr/local/go-toolchain
    chmod -R a+rX /usr/local/go-toolchain && chmod a+x /usr/local/go-toolchain/bin/* /usr/local/go-toolchain/pkg/tool/*/*
    ln -sf /usr/local/go-toolchain/bin/go /usr/local/bin/go
    rm -rf "${tmp}"
    echo "install-test-tools: $(go version)"
  fi
fi

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-liberation)
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
[ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ] || missing+=(prometheus)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
if [ ${#missing[@]} -eq 0 ]; then
  echo "test tools already installed: $(/usr/bin/chromium --version 2>/dev/null), $(docker-compose version --short 2>/dev/null || docker compose version --short), $(/usr/bin/prometheus --version 2>&1 | head -n 1)"
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
