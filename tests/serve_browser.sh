#!/usr/bin/env bash
# Browser test of `report serve` (run by the browser stage of tests/run.sh, after tests/browser.sh).
#
# Starts the release binary's server on a loopback ephemeral port with the committed models,
# starts headless Chromium (Debian's `chromium`, installed when missing) with a DevTools port,
# and drives it with tests/serve_browser/drive.mjs (Node's built-in WebSocket): a what-if input
# changed, the updated prediction read and checked against the API, a CSV uploaded on the batch
# page (the bundled table with age + 10 on every other row, so the drift alarm fires), the model
# card opened. Screenshots: target/serve-browser/{whatif,batch,card}.png.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT="$ROOT/target/serve-browser"
mkdir -p "$OUT"
command -v node >/dev/null || { echo "serve-browser: node (>= 20) is needed: apt-get install -y nodejs" >&2; exit 1; }
if ! command -v chromium >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then echo "serve-browser: chromium is missing: apt-get install -y chromium" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
cargo build --release --quiet --bin report

PROFILE=$(mktemp -d)
SERVER_PID=""; CHROME_PID=""
cleanup() {
  [[ -n "$CHROME_PID" ]] && kill "$CHROME_PID" 2>/dev/null || true
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  # Chromium's helper processes may still write into the profile for a moment after the main
  # process is gone: retry, and never let the clean-up decide the exit code.
  for _ in 1 2 3 4 5 6 7 8 9 10; do rm -rf "$PROFILE" 2>/dev/null && break; sleep 0.3; done
  return 0
}
trap cleanup EXIT

target/release/report serve --addr 127.0.0.1:0 --models report/models >"$OUT/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do grep -q "http://" "$OUT/serve.log" && break; sleep 0.1; done
URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$OUT/serve.log" | head -1)
[[ -n "$URL" ]] || { echo "serve-browser: the server did not start:" >&2; cat "$OUT/serve.log" >&2; exit 1; }

# The upload: the bundled table with age + 10 on every other data row.
awk -F, 'BEGIN{OFS=","} NR==1{print; next} {if ((NR-2)%2==0) $2=$2+10; print}' \
  data/customer_purchasing_behaviors.csv >"$OUT/upload.csv"

chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --user-data-dir="$PROFILE" \
  --hide-scrollbars --window-size=1280,900 --remote-debugging-port=0 about:blank \
  >"$OUT/chromium.log" 2>&1 &
CHROME_PID=$!
for _ in $(seq 100); do [[ -s "$PROFILE/DevToolsActivePort" ]] && break; sleep 0.1; done
PORT=$(head -1 "$PROFILE/DevToolsActivePort" 2>/dev/null || true)
[[ -n "$PORT" ]] || { echo "serve-browser: chromium did not open a DevTools port" >&2; exit 1; }

node --experimental-websocket --no-warnings tests/serve_browser/drive.mjs "$PORT" "$URL" "$OUT/upload.csv" "$OUT"
