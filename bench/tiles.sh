#!/usr/bin/env bash
# bench/tiles.sh — the tiles part of `make bench`: gridplan against MapServer 8 (FastCGI,
# CLOSE_CONNECTION=DEFER), Mapnik 3.1 and nginx, on one database, one style and one tile list (all
# tiles of z12-15 over the communities, fixed shuffled order), 2 processes each.
#   gridplan cold:   `gridplan serve` with the tile cache off (GRIDPLAN_TILE_CACHE_MB=0, no disk
#                    tier), wrk -t1 -c8 like MapServer (the kit's `server` command);
#   gridplan cached: `gridplan serve` with every tile cached, wrk -t2 -c64 like nginx;
#   peers:           the tile-benchmark kit in bench/tiles_kit (a copy of the shared kit with its
#                    mapfile and Mapnik style restyled to geodata/styles/default.json's look).
# Settings: BENCH_DB (default geodata/demo.sqlite, made with `make demo`), BENCH_QUICK=1 (1 x 5 s per
# setting instead of 3 x 20 s), BENCH_PEERS=0 (gridplan only). Installs the peers' Debian packages
# when run as root. Output: bench/work/tiles/ and the table at the end.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
KIT=$ROOT/bench/tiles_kit
GP=$ROOT/build/gridplan
export BENCH_WORK=${BENCH_WORK:-$ROOT/bench/work/tiles}
DB=${BENCH_DB:-geodata/demo.sqlite}
[ -f "$DB" ] || make -s demo
export BENCH_DB=$(cd "$(dirname "$DB")" && pwd)/$(basename "$DB") BENCH_TAG=${BENCH_TAG:-gp} PROCS=2
[ "${BENCH_QUICK:-0}" = 1 ] && export QUICK=1
export GRIDPLAN_STYLE=$ROOT/bench/tiles_style.json GRIDPLAN_QUIET=1
PEERS=${BENCH_PEERS:-1}
SUMMARY_ONLY=0; [ "${1:-}" = --summary ] && SUMMARY_ONLY=1   # re-print the table from bench/work/tiles
mkdir -p "$BENCH_WORK"
RES=$BENCH_WORK/results
PY=/usr/bin/python3

if [ "$PEERS" = 1 ]; then
  missing=$(for p in mapserver-bin cgi-mapserver spawn-fcgi nginx wrk python3-mapnik; do dpkg -s $p >/dev/null 2>&1 || printf '%s ' $p; done)
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then "$KIT/run.sh" deps >/dev/null; else echo "tiles: peers need: sudo apt-get install $missing (running gridplan only)"; PEERS=0; fi
  fi
fi
if [ $SUMMARY_ONLY = 0 ]; then
  "$KIT/run.sh" tiles

  SERVER_PID=
  stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=; true; }
  trap stop_server EXIT
  # start_server CACHE_MB TILES_DIR: gridplan serve on a free port, 2 threads; sets PORT
  start_server() {
    GRIDPLAN_TILE_CACHE_MB=$1 "$GP" serve --db "$BENCH_DB" --port 0 --threads 2 --tiles-dir "$2" --access-log off \
      >"$BENCH_WORK/serve.out" 2>"$BENCH_WORK/serve.log" &
    SERVER_PID=$!
    PORT=
    for _ in $(seq 200); do
      PORT=$(sed -n 's/.*http:\/\/127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$BENCH_WORK/serve.out"); [ -n "$PORT" ] && break; sleep 0.1
    done
    [ -n "$PORT" ] || { cat "$BENCH_WORK/serve.log"; exit 1; }
  }
  peak_kb() { awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status"; }

  echo "=== gridplan cold (cache off)"
  start_server 0 ""
  "$KIT/run.sh" server "http://127.0.0.1:$PORT/tiles/default/{z}/{x}/{y}.png" gridplan
  echo "gridplan_cold_peak_kb=$(peak_kb)" > "$RES/gridplan_memory.txt"
  stop_server

  echo "=== gridplan cached (every tile in the memory cache)"
  rm -rf "$BENCH_WORK/gp_tiles"
  start_server 512 "$BENCH_WORK/gp_tiles"
  U=$BENCH_WORK/gen/$BENCH_TAG/urls_server_gridplan.txt
  "$PY" "$KIT/bench/fetch_tiles.py" --base "http://127.0.0.1:$PORT" --template '/tiles/default/{z}/{x}/{y}.png' \
    --tiles "$BENCH_WORK/gen/$BENCH_TAG/tiles.txt" --out "$BENCH_WORK/out/gp_cached" --name gridplan_cached --threads 4
  if [ "${QUICK:-0}" = 1 ]; then D=3; N=1; W=1; else D=10; N=3; W=3; fi
  timeout $((W + 30)) wrk -d${W}s -t2 -c64 -s "$KIT/wrk/urls.lua" "http://127.0.0.1:$PORT" -- "$U" >/dev/null
  rm -f "$RES"/gridplan_cached_r*.txt
  for R in $(seq $N); do
    timeout $((D + 30)) wrk -d${D}s -t2 -c64 --latency -s "$KIT/wrk/urls.lua" "http://127.0.0.1:$PORT" -- "$U" \
      > "$RES/gridplan_cached_r$R.txt"
    echo "gridplan cached r$R $(grep Requests/sec "$RES/gridplan_cached_r$R.txt")"
  done
  echo "gridplan_cached_peak_kb=$(peak_kb)" >> "$RES/gridplan_memory.txt"
  stop_server

  if [ "$PEERS" = 1 ]; then
    echo "=== MapServer"; "$KIT/run.sh" mapserver
    echo "=== Mapnik"; "$KIT/run.sh" mapnik
    echo "=== nginx"; "$KIT/run.sh" static
  fi
fi

"$PY" - "$RES" "$BENCH_WORK/out" "$BENCH_TAG" <<'PYEOF'
import glob, os, re, statistics, sys
res, out, tag = sys.argv[1:4]
def rps(pattern):
    v = [float(re.search(r"Requests/sec:\s+([\d.]+)", open(f).read()).group(1)) for f in sorted(glob.glob(os.path.join(res, pattern)))]
    return statistics.median(v) if v else None
def mapnik(p):
    # a run that died (Mapnik aborts now and then on this data) leaves no tiles_per_s line
    m = [re.search(r"tiles_per_s=([\d.]+)", open(f).read()) for f in glob.glob(os.path.join(res, f"mapnik_{tag}_p{p}_r*.txt"))]
    v = [float(x.group(1)) for x in m if x]
    return statistics.median(v) if v else None
def mean_png(d):
    s = [os.path.getsize(f) for f in glob.glob(os.path.join(out, d, "**", "*.png"), recursive=True)]
    return (sum(s) / len(s), len(s)) if s else (None, 0)
mem = dict(l.strip().split("=") for l in open(os.path.join(res, "gridplan_memory.txt")) if "=" in l)
f = lambda x, d=0: "–" if x is None else f"{x:,.{d}f}"
cold, ms, mk = rps("server_gridplan_c8_r*.txt"), rps(f"fcgi_{tag}d_p2_r*.txt"), mapnik(2)
cached, ngx = rps("gridplan_cached_r*.txt"), rps("static_nginx_w2_r*.txt")
gp_png, n1 = mean_png("server_gridplan"); ms_png, n2 = mean_png(f"ms_{tag}")
print("\n| 2 processes, same tile list | tiles/s | vs peer |")
print("|---|---|---|")
print(f"| gridplan cold (cache off), wrk -t1 -c8 | {f(cold)} | {f(cold / ms, 2) + '× MapServer' if cold and ms else ''}{', ' + f(cold / mk, 2) + '× Mapnik' if cold and mk else ''} |")
print(f"| MapServer 8 FastCGI, CLOSE_CONNECTION=DEFER, wrk -t1 -c8 | {f(ms)} | |")
print(f"| Mapnik 3.1 in-process, png32 z=6 | {f(mk)} | |")
print(f"| gridplan cached (memory), wrk -t2 -c64 | {f(cached)} | {f(100 * cached / ngx, 0) + '% of nginx' if cached and ngx else ''} |")
print(f"| nginx static (2 workers), wrk -t2 -c64 | {f(ngx)} | |")
print(f"\nmean PNG bytes: gridplan {f(gp_png)} ({n1} tiles), MapServer {f(ms_png)} ({n2} tiles)")
print(f"gridplan serve peak RSS (VmHWM): cold run {int(mem.get('gridplan_cold_peak_kb', 0)) / 1024:.0f} MB, cached run {int(mem.get('gridplan_cached_peak_kb', 0)) / 1024:.0f} MB")
PYEOF
