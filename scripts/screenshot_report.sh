#!/usr/bin/env bash
# Render an HTML report in headless Chromium and save a PNG, to check it as a person sees it.
# Usage: scripts/screenshot_report.sh REPORT.html OUT.png [WIDTHxHEIGHT]
# Installs Debian's chromium if it is missing (needs root, as on the project's machines).
set -euo pipefail
report=$(realpath "$1"); out=$(realpath -m "$2"); size=${3:-1280,2400}
if ! command -v chromium >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# The background-networking flags keep Chromium from trying to phone home from a closed network.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$profile" --hide-scrollbars --window-size="${size/x/,}" \
  --screenshot="$out" "file://$report" 2>/dev/null
echo "wrote $out"
