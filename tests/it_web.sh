#!/usr/bin/env bash
# Web map end to end: serves a temporary copy of the demo city with `gridplan serve`, makes a planner
# token, and drives the page in headless Debian Chromium with playwright-core (tests/web/e2e.mjs).
# Screenshots of every step and the downloaded police CSV go to tests/artifacts/web/.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
GRIDPLAN=${GRIDPLAN:-$root/build/gridplan}
art=$root/tests/artifacts/web
tmp=$(mktemp -d)
server=
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

need() { if ! "$@" >/dev/null 2>&1; then echo "not ok - web e2e prerequisites: '$*' failed ($why)"; exit 1; fi; }
why="install chromium (make deps)"; need test -x "${CHROMIUM:-/usr/bin/chromium}"
why="run make web-test-deps";       need test -d "$root/tests/web/node_modules/playwright-core"
why="run make web";                 need test -f "$root/web/vendor/leaflet/leaflet.js"
why="build gridplan first";          need test -x "$GRIDPLAN"

# A private copy of the demo city, so the test's edits never touch geodata/demo.sqlite.
db=$tmp/demo.sqlite
if [ -f "$root/geodata/demo.sqlite" ]; then
  sqlite3 "$root/geodata/demo.sqlite" ".backup '$db'" || { echo "not ok - copy the demo db"; exit 1; }
else
  "$GRIDPLAN" demo --db "$db" >"$tmp/demo.log" 2>&1 || { echo "not ok - gridplan demo: $(tail -3 "$tmp/demo.log")"; exit 1; }
fi

# `token add` prints the token once; it is the last word of its output.
token=$("$GRIDPLAN" token add --db "$db" --name web-e2e --role planner 2>"$tmp/token.err" | awk 'NF{w=$NF} END{print w}')
[ -n "$token" ] || { echo "not ok - gridplan token add: $(cat "$tmp/token.err")"; exit 1; }

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
(cd "$root" && exec "$GRIDPLAN" serve --db "$db" --port "$port" --bind 127.0.0.1) >"$tmp/serve.log" 2>&1 &
server=$!
url=http://127.0.0.1:$port/
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$url" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { echo "not ok - gridplan serve exited: $(tail -5 "$tmp/serve.log")"; exit 1; }
  sleep 0.2
done
curl -fsS -o /dev/null "$url" || { echo "not ok - gridplan serve does not answer on $url"; exit 1; }
# A browser asks for text/html at /: the server must answer with web/index.html, not only the OGC
# landing page (JSON).
ctype=$(curl -fsS -o "$tmp/index" -w '%{content_type}' -H 'Accept: text/html,application/xhtml+xml,*/*;q=0.8' "$url")
if ! grep -q 'vendor/leaflet/leaflet.js' "$tmp/index"; then
  echo "not ok - gridplan serve answers a browser at / with '$ctype', not web/index.html: static file serving of web/ is missing"
  exit 1
fi

rm -rf "$art" && mkdir -p "$art"
node "$root/tests/web/e2e.mjs" --url "$url" --token "$token" --out "$art"
rc=$?
cp "$tmp/serve.log" "$art/serve.log" 2>/dev/null
exit $rc
