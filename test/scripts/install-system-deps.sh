#!/usr/bin/env bash
# Installs what the test suites need that npm does not: Redis, Chromium and Debian's Python packages for the
# Kit bridge. Skips everything already present; uses apt-get only when something is missing.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
/usr/bin/python3 -c 'import socketio' >/dev/null 2>&1 || need+=(python3-socketio)
/usr/bin/python3 -c 'import websockets' >/dev/null 2>&1 || need+=(python3-websockets)
/usr/bin/python3 -c 'import aiohttp' >/dev/null 2>&1 || need+=(python3-aiohttp)

if [ ${#need[@]} -eq 0 ]; then
  echo "system deps: all present"
  exit 0
fi

echo "system deps: installing ${need[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "system deps: done"
