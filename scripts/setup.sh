#!/usr/bin/env sh
# Installs what the repo needs on a machine that has only Node: pnpm (pinned in
# package.json), the workspace's packages, and Chromium for the status-page test.
set -eu
cd "$(dirname "$0")/.."
PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")

if ! pnpm --version 2>/dev/null | grep -qx "$PNPM_VERSION"; then
  echo "setup: installing pnpm $PNPM_VERSION" >&2
  if ! COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0 corepack enable pnpm >/dev/null 2>&1 \
    || ! COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0 pnpm --version >/dev/null 2>&1; then
    npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null
  fi
fi
export COREPACK_INTEGRITY_KEYS=0 COREPACK_ENABLE_DOWNLOAD_PROMPT=0

# Chromium renders the router's status page in its test. Debian's package, when we may install it.
if [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (Debian package)" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "setup: chromium could not be installed; the status-page browser test will say so" >&2
  else
    echo "setup: no chromium found; install it (apt-get install chromium) or set CHROMIUM_PATH" >&2
  fi
fi

pnpm install --frozen-lockfile=false --prefer-offline --reporter=silent
