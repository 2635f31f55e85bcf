#!/usr/bin/env bash
# Installs Stripe's official SDKs for the sandbox's SDK suites (idempotent): stripe-python,
# pinned by requirements.txt, into a virtualenv under its test folder, and stripe-node,
# pinned by package-lock.json, with `npm ci`. Installs Debian's python3-venv, nodejs and npm
# when missing; fails if they cannot be had, so CI that sets PAYSWITCH_REQUIRE_SDKS=1 never
# runs the suites without them.
set -euo pipefail
cd "$(dirname "$0")/.."
suites=crates/payswitch-sandbox/tests/sdk

# A fresh Debian has python3 but not its venv module (python3-venv), and may lack node/npm.
need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd="sudo"
  fi
  $sudo_cmd apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends "${need[@]}"
fi

python_suite=$suites/stripe-python
venv=$python_suite/.venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
# pip's own check skips what is already installed at the pinned version.
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$python_suite/requirements.txt"

node_suite=$suites/stripe-node
lock_stamp=$node_suite/node_modules/.payswitch-lock
if ! cmp -s "$node_suite/package-lock.json" "$lock_stamp" 2>/dev/null; then
  (cd "$node_suite" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$node_suite/package-lock.json" "$lock_stamp"
fi

echo "Stripe SDKs: stripe-python $("$venv/bin/python" -c 'import stripe; print(stripe.VERSION)')," \
  "stripe-node $(node -p "require('./$node_suite/node_modules/stripe/package.json').version" 2>/dev/null || grep -m1 '"version"' "$node_suite/node_modules/stripe/package.json")"
