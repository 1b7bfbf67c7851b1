#!/usr/bin/env bash
# Render an HTML report in headless Chromium and save a PNG, to check it as a person sees it.
# Usage: scripts/screenshot_report.sh REPORT.html[#ANCHOR] OUT.png [WIDTHxHEIGHT]
# The page is shown in a frame of exactly WIDTH pixels (Chromium's own headless window is never
# narrower than 500 px, so a phone-width check needs the frame). Installs Debian's chromium if
# it is missing (needs root, as on the project's machines; see 'make browser').
set -euo pipefail
target=$1; anchor=""
if [[ $target == *#* ]]; then anchor="#${target#*#}"; target=${target%%#*}; fi
report=$(realpath "$target"); out=$(realpath -m "$2"); size=${3:-1280x2400}
width=${size%[x,]*}; height=${size#*[x,]}
if ! command -v chromium >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/frame.html" <<EOF
<!DOCTYPE html><html><body style="margin:0;background:#fff">
<iframe src="file://$report$anchor" style="width:${width}px;height:${height}px;border:0;display:block"></iframe>
</body></html>
EOF
# The background-networking flags keep Chromium from trying to phone home from a closed network.
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --hide-scrollbars --window-size="$width,$height" \
  --virtual-time-budget=5000 --run-all-compositor-stages-before-draw --screenshot="$out" "file://$work/frame.html" 2>/dev/null
echo "wrote $out"
