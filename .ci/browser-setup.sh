#!/usr/bin/env bash
# Installs what the sandbox's headless-browser test needs: Debian's chromium
# and playwright-core (from tests/browser/package-lock.json). Safe to re-run:
# each step is skipped when its result is already present.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

if [ ! -x /usr/bin/chromium ]; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo_cmd="sudo"
    fi
    $sudo_cmd apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends chromium
fi

cd "$repo_root/tests/browser"
if [ ! -d node_modules/playwright-core ]; then
    if [ -f package-lock.json ]; then
        npm ci --no-audit --no-fund
    else
        npm install --no-audit --no-fund
    fi
fi

/usr/bin/chromium --version 2>/dev/null
node -e "require('playwright-core'); console.log('playwright-core ok')"
