#!/usr/bin/env bash
# Installs what the sandbox's Creem SDK suite needs: Creem's official TypeScript SDK
# (`creem`, pinned in crates/payswitch-sandbox/tests/sdk/creem-ts/package-lock.json), with
# `npm ci`. Safe to re-run: skipped when the pinned version is already installed.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
suite="$repo_root/crates/payswitch-sandbox/tests/sdk/creem-ts"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo_cmd="sudo"
    fi
    $sudo_cmd apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends nodejs npm
fi

cd "$suite"
pinned=$(node -e 'console.log(require("./package-lock.json").packages["node_modules/creem"].version)')
installed=$(node -e 'try { console.log(require("./node_modules/creem/package.json").version) } catch { console.log("none") }')
if [ "$installed" != "$pinned" ]; then
    npm ci --no-audit --no-fund
fi

node -e 'console.log("creem SDK " + require("./node_modules/creem/package.json").version + " ok")'
