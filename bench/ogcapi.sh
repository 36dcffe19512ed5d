#!/usr/bin/env bash
# bench/ogcapi.sh — OGC API - Features: gridplan serve against MapServer 8 (FastCGI, DEFER, 2
# processes behind nginx) and ogr2ogr on the same database and the same bboxes, in one run.
#
#   communities: the bbox of every z14 tile over the city, limit=100
#   buildings:   the bbox of every z15 tile, limit=100 and limit=1000 (MapServer: 1000, as in the
#                shared reference table)
#   feature:     /collections/buildings/items/{random fid}
# Load: wrk -t1 -c8, WARMUP s then DURATION s per case, paths in one fixed shuffled order. Server
# peak memory is VmHWM after all cases. Everything listens on 127.0.0.1 only.
#
# Settings: BENCH_DB (default: the demo city geodata/demo.sqlite, made with `make demo`; if this
# build has no `gridplan demo`, a synthetic city of 450 communities / 120,000 buildings),
# BENCH_QUICK=1 (3 s per case), DURATION, WARMUP, THREADS (gridplan workers, default 2),
# MS_PROCS (default 2), BENCH_INSTALL=0 to skip apt-get of the MapServer peers when missing.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/build/gridplan
HERE=$ROOT/bench/ogcapi
WORK=$ROOT/bench/work/ogcapi
mkdir -p "$WORK"
QUICK=${BENCH_QUICK:-0}
DURATION=${DURATION:-$([ "$QUICK" = 1 ] && echo 3 || echo 10)}
WARMUP=${WARMUP:-$([ "$QUICK" = 1 ] && echo 1 || echo 2)}
THREADS=${THREADS:-2}
MS_PROCS=${MS_PROCS:-2}
log() { echo "ogcapi: $*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- the database ------------------------------------------------------------------------------
if [ -n "${BENCH_DB:-}" ]; then
  DB=$(readlink -f "$BENCH_DB"); CITY="$(basename "$DB")"
elif "$BIN" demo --help >/dev/null 2>&1; then
  make -s demo >/dev/null || { log "make demo failed"; exit 1; }
  DB=$ROOT/geodata/demo.sqlite; CITY="demo city (gridplan demo, scale 1)"
else
  DB=$WORK/synthetic.sqlite; CITY="synthetic city (no gridplan demo in this build)"
  if [ ! -s "$DB" ]; then
    log "building $DB"
    GRIDPLAN=$BIN; . "$ROOT/tests/http_lib.sh"
    rm -f "$DB" "$DB".*; make_city "$DB" 120000 >/dev/null || { log "synthetic city failed"; exit 1; }
  fi
fi
[ -s "$DB" ] || { log "no database $DB"; exit 1; }
python3 "$HERE/make_urls.py" "$DB" "$WORK/urls" >&2 || exit 1
echo "database: $CITY — $("$BIN" info --db "$DB" | awk '/^(communities|buildings) /{printf "%s %s  ", $1, $2}')"

# wrk_case NAME BASEURL URLFILE -> one result line "NAME rps p50 p99 mean_bytes non2xx"
wrk_case() {
  local name=$1 base=$2 urls=$3 out=$WORK/wrk_$1.txt
  wrk -t1 -c8 -d"$WARMUP" -s "$ROOT/bench/tiles_kit/wrk/urls.lua" "$base" -- "$urls" >/dev/null 2>&1
  wrk -t1 -c8 -d"$DURATION" --latency -s "$ROOT/bench/tiles_kit/wrk/urls.lua" "$base" -- "$urls" >"$out" 2>&1
  python3 - "$name" "$out" <<'PY'
import re, sys
name, t = sys.argv[1], open(sys.argv[2]).read()
U = {"us": 1e-3, "ms": 1.0, "s": 1e3}
B = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
lat = {p: float(v) * U[u] for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", t, re.M)}
m = re.search(r"(\d+) requests in [\d.]+\w+, ([\d.]+)(\w+) read", t)
mean = float(m.group(2)) * B[m.group(3)] / max(int(m.group(1)), 1)
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(name, "%.1f %.2f %.2f %.0f %s" % (rps, lat["50"], lat["99"], mean, bad.group(1) if bad else 0))
PY
}

RESULTS=$WORK/results.txt
: >"$RESULTS"

# --- gridplan ------------------------------------------------------------------------------------
"$BIN" serve --db "$DB" --port 0 --threads "$THREADS" --access-log off >"$WORK/serve.out" 2>"$WORK/serve.log" &
GP_PID=$!
trap 'kill $GP_PID 2>/dev/null; ms_stop' EXIT
ms_stop() { :; }
for _ in $(seq 100); do GP_PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$WORK/serve.out"); [ -n "$GP_PORT" ] && break; sleep 0.05; done
[ -n "${GP_PORT:-}" ] || { log "gridplan serve did not start: $(cat "$WORK/serve.log")"; exit 1; }
GP=http://127.0.0.1:$GP_PORT
check=$(curl -s "$GP$(head -1 "$WORK/urls/communities_100.txt")" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['numberReturned'], d['numberMatched'])")
log "gridplan on $GP, $THREADS threads; first communities bbox: returned/matched $check"
for c in communities_100 buildings_100 buildings_1000 feature; do
  wrk_case "gridplan_$c" "$GP" "$WORK/urls/$c.txt" | tee -a "$RESULTS" >&2
done
GP_HWM=$(awk '/VmHWM/{print $2}' /proc/$GP_PID/status)
GP_ANON=$(awk '/RssAnon/{print $2}' /proc/$GP_PID/status)
kill $GP_PID; wait $GP_PID 2>/dev/null

# --- MapServer 8 over FastCGI (nginx -> spawn-fcgi -F MS_PROCS mapserv), DEFER -----------------
MAPSERV=${MAPSERV:-/usr/lib/cgi-bin/mapserv}
have_ms() { [ -x "$MAPSERV" ] && command -v spawn-fcgi >/dev/null && command -v nginx >/dev/null; }
if ! have_ms && [ "${BENCH_INSTALL:-1}" = 1 ] && [ "$(id -u)" = 0 ]; then
  log "installing mapserver-bin cgi-mapserver spawn-fcgi nginx"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mapserver-bin cgi-mapserver spawn-fcgi nginx >/dev/null 2>&1
fi
MS_OK=0
if have_ms; then
  NGX=$WORK/nginx; GEN=$WORK/gen; mkdir -p "$NGX/tmp" "$GEN"
  MSDB=$WORK/mapserver.sqlite
  # MapServer's OGC API takes feature ids from an attribute (gml_featureid): a copy with id = fid.
  if [ ! -s "$MSDB" ] || [ "$MSDB" -ot "$DB" ]; then
    rm -f "$MSDB"; sqlite3 "$DB" ".backup '$MSDB'"
    sqlite3 "$MSDB" "SELECT load_extension('mod_spatialite'); ALTER TABLE communities ADD COLUMN id INTEGER; UPDATE communities SET id = fid;
                     ALTER TABLE buildings ADD COLUMN id INTEGER; UPDATE buildings SET id = fid;" >/dev/null
  fi
  PORT_MS=$(free_port); PORT_FCGI=$(free_port)
  sed -e "s|@DB@|$MSDB|g; s|@PORT_MS@|$PORT_MS|g; s|@OGCAPI_TEMPLATES@|/usr/share/mapserver/ogcapi/templates/html-plain/|g" \
      "$HERE/mapserver.map.in" >"$GEN/city_defer.map"
  sed -e "s|@GEN@|$GEN|g" "$HERE/mapserver.conf.in" >"$GEN/mapserver.conf"
  USER_LINE=""; [ "$(id -u)" = 0 ] && USER_LINE="user $(id -un) $(id -gn);"
  sed -e "s|@USER@|$USER_LINE|; s|@WORKERS@|1|; s|@NGX@|$NGX|g; s|@PORT_MS@|$PORT_MS|g; s|@PORT_FCGI@|$PORT_FCGI|g" \
      "$HERE/nginx.conf.in" >"$NGX/nginx.conf"
  export MAPSERVER_CONFIG_FILE=$GEN/mapserver.conf
  ms_stop() {
    [ -f "$NGX/nginx.pid" ] && kill "$(cat "$NGX/nginx.pid")" 2>/dev/null
    # FastCGI mapserv only exits on the request after a SIGTERM: kill the pids spawn-fcgi recorded.
    [ -f "$NGX/fcgi.pid" ] && for p in $(cat "$NGX/fcgi.pid"); do kill -9 "$p" 2>/dev/null; done
    rm -f "$NGX/fcgi.pid"
  }
  if nginx -p "$NGX/" -e "$NGX/error.log" -c "$NGX/nginx.conf" &&
     spawn-fcgi -a 127.0.0.1 -p "$PORT_FCGI" -F "$MS_PROCS" -P "$NGX/fcgi.pid" -- "$MAPSERV" >/dev/null; then
    sleep 0.5
    MS=http://127.0.0.1:$PORT_MS
    check=$(curl -s "$MS$(head -1 "$WORK/urls/ms_communities_100.txt")" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['numberReturned'], d.get('numberMatched'))" 2>&1)
    log "MapServer on $MS, $MS_PROCS FastCGI processes; first communities bbox: returned/matched $check"
    case $check in [0-9]*)
      MS_OK=1
      wrk_case mapserver_communities_100 "$MS" "$WORK/urls/ms_communities_100.txt" | tee -a "$RESULTS" >&2
      wrk_case mapserver_buildings_1000 "$MS" "$WORK/urls/ms_buildings_1000.txt" | tee -a "$RESULTS" >&2;;
    *) log "MapServer answered no FeatureCollection; skipping it";;
    esac
  else
    log "could not start nginx/spawn-fcgi; skipping MapServer"
  fi
  ms_stop
else
  log "MapServer peers not installed (mapserver-bin cgi-mapserver spawn-fcgi nginx); skipping them"
fi

# --- ogr2ogr: one process per bbox export, as a script would do it ------------------------------
ogr_case() {   # NAME LAYER BBOXFILE N
  local name=$1 layer=$2 file=$3 n=$4
  python3 - "$DB" "$layer" "$file" "$n" "$name" <<'PY'
import subprocess, sys, time
db, layer, path, n, name = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
boxes = [l.strip().split(",") for l in open(path) if l.strip()][:n]
subprocess.run(["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", "-spat", *boxes[0], db, layer], stdout=subprocess.DEVNULL)
times = []
for b in boxes:
    t = time.perf_counter()
    subprocess.run(["ogr2ogr", "-f", "GeoJSON", "/vsistdout/", "-spat", *b, db, layer], stdout=subprocess.DEVNULL, check=True)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(name, "%.1f %.2f %.2f 0 0" % (1000 / (sum(times) / len(times)), times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]))
PY
}
ogr_case ogr2ogr_communities communities "$WORK/urls/bbox_z14.txt" 30 | tee -a "$RESULTS" >&2
ogr_case ogr2ogr_buildings buildings "$WORK/urls/bbox_z15.txt" 30 | tee -a "$RESULTS" >&2

# --- the table -------------------------------------------------------------------------------------
python3 - "$RESULTS" "$GP_HWM" "$THREADS" "$MS_PROCS" "$DURATION" "$GP_ANON" <<'PY'
import sys
rows = {l.split()[0]: l.split()[1:] for l in open(sys.argv[1]) if l.strip()}
hwm, threads, procs, dur, anon = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
def r(k): return rows.get(k)
print("\n| case (wrk -t1 -c8, %s s) | server | req/s | p50 ms | p99 ms | mean bytes | non-2xx |" % dur)
print("|---|---|---|---|---|---|---|")
labels = [("communities bbox z14, limit 100", "communities_100"), ("buildings bbox z15, limit 100", "buildings_100"),
          ("buildings bbox z15, limit 1000", "buildings_1000"), ("one building by id", "feature")]
for label, key in labels:
    for srv, prefix, note in (("gridplan", "gridplan_", "%s threads" % threads), ("MapServer 8", "mapserver_", "%s FastCGI procs, DEFER" % procs)):
        v = r(prefix + key)
        if v: print("| %s | %s (%s) | %s | %s | %s | %s | %s |" % (label, srv, note, f"{float(v[0]):,.0f}", v[1], v[2], f"{int(float(v[3])):,}", v[4]))
for label, key in (("communities bbox z14", "ogr2ogr_communities"), ("buildings bbox z15", "ogr2ogr_buildings")):
    v = r(key)
    if v: print("| %s | ogr2ogr -spat to GeoJSON, a process per bbox | %s exports/s | %s | %s | – | – |" % (label, v[0], v[1], v[2]))
print("\ngridplan peak memory (VmHWM): %.1f MB, of which heap and stacks (RssAnon at the end) %.1f MB;"
      " the rest is the database file mapped by the workers (shared page cache)" % (hwm / 1024, anon / 1024))
for label, g, m in (("communities limit 100", "gridplan_communities_100", "mapserver_communities_100"),
                    ("buildings (gridplan limit 1000 vs MapServer limit 1000)", "gridplan_buildings_1000", "mapserver_buildings_1000")):
    if r(g) and r(m): print("ratio gridplan / MapServer, %s: %.1fx req/s" % (label, float(r(g)[0]) / float(r(m)[0])))
PY
