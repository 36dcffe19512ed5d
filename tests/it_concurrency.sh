#!/usr/bin/env bash
# it_concurrency.sh — 8 writer threads PUT hundreds of community edits while 4 readers page
# through items; afterwards every acknowledged edit is in the database (exact bounds, one changeset
# each, owned by the token that made it) and nothing else changed (untouched communities, grids
# and buildings byte-identical).
set -u
. "$(dirname "$0")/http_lib.sh"
WORK=$(mktemp -d)
trap 'stop_server; rm -rf "$WORK"' EXIT
DB=$WORK/city.sqlite
T1=$(make_city "$DB" 3000) || { notok "test city"; exit 1; }
T2=$("$GRIDPLAN" token add --db "$DB" --name planner2 --role planner) || { notok "second token"; exit 1; }
EDITS=${EDITS:-40}   # per writer
snap() { sql "$DB" "SELECT '$1', fid, hex(geom) FROM $1 ORDER BY fid" ; }
sql "$DB" "SELECT fid, hex(geom) FROM communities WHERE fid > 160 ORDER BY fid" >"$WORK/untouched.before"
{ snap grids; snap buildings; } | md5sum >"$WORK/others.before"
start_server "$DB" --threads 2 --access-log off || { notok "server start"; exit 1; }

python3 - "$PORT" "$T1" "$T2" "$EDITS" >"$WORK/result.json" 2>"$WORK/py.err" <<'PY'
import http.client, json, random, sys, threading, time
port, t1, t2, edits = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
acked = {}          # fid -> (changeset, bounds, owner) of the last acknowledged edit
changesets = []
errors = []
lock = threading.Lock()
def cell(fid):      # community fid's original 0.01 degree square (see http_lib.sh)
    n = fid - 1
    return 111.6 + (n % 20) * 0.01, 40.8 + (n // 20) * 0.01
def writer(w):
    rng = random.Random(w)
    token, owner = (t1, "planner1") if w % 2 == 0 else (t2, "planner2")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine = [f for f in range(1, 161) if (f - 1) % 8 == w]
    for i in range(edits):
        fid = rng.choice(mine)
        x, y = cell(fid)
        m = 0.0005 + (i % 90) * 0.00005   # differs from this writer's earlier edits: no no-op updates
        b = (round(x + m, 7), round(y + m, 7), round(x + 0.01 - m, 7), round(y + 0.01 - m, 7))
        ring = [[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]], [b[0], b[1]]]
        body = json.dumps({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}})
        try:
            c.request("PUT", "/api/features/communities/%d" % fid, body, {"Authorization": "Bearer " + token})
            r = c.getresponse(); data = r.read()
        except Exception as e:
            with lock: errors.append("writer %d: %r" % (w, e))
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30); continue
        if r.status == 200:
            cs = json.loads(data)["changeset"]
            with lock:
                changesets.append((cs, owner, fid))
                if fid not in acked or acked[fid][0] < cs: acked[fid] = (cs, b, owner)
        else:
            with lock: errors.append("writer %d: %d %s" % (w, r.status, data[:200]))
reads = [0]
def reader(r):
    rng = random.Random(100 + r)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not done.is_set():
        x, y = 111.6 + rng.random() * 0.15, 40.8 + rng.random() * 0.07
        path = "/collections/%s/items?bbox=%.4f,%.4f,%.4f,%.4f&limit=100" % (rng.choice(["communities", "buildings"]), x, y, x + 0.05, y + 0.03)
        try:
            c.request("GET", path); resp = c.getresponse(); d = json.loads(resp.read())
            if resp.status != 200 or d["numberReturned"] != len(d["features"]):
                with lock: errors.append("reader %s: %d" % (path, resp.status))
            with lock: reads[0] += 1
        except Exception as e:
            with lock: errors.append("reader: %r" % e)
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
done = threading.Event()
rs = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
ws = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
t0 = time.time()
for t in rs + ws: t.start()
for t in ws: t.join()
done.set()
for t in rs: t.join()
print(json.dumps({"seconds": time.time() - t0, "reads": reads[0], "errors": errors,
                  "changesets": sorted(changesets), "acked": {str(k): v for k, v in acked.items()}}))
PY
[ -s "$WORK/result.json" ] || { notok "load driver failed: $(tail -5 "$WORK/py.err")"; exit 1; }
stop_server
R=$WORK/result.json
t=$(jq_py "len(d['changesets']), len(d['errors']), d['reads'], round(d['seconds'], 1)" <"$R")
read -r nacked nerr nreads secs <<<"$t"
want=$((8 * EDITS))
[ "$nacked" = "$want" ] && [ "$nerr" = 0 ] && ok "$nacked of $want edits acknowledged, $nreads reads alongside, no errors ($secs s)" || notok "acked $nacked/$want, errors: $(jq_py "d['errors'][:5]" <"$R")"

# Every acknowledged changeset exists once, with the right owner and one change row.
sql "$DB" "SELECT id, user FROM changesets ORDER BY id" >"$WORK/db_changesets"
jq_py "'\n'.join('%d|%s' % (cs, owner) for cs, owner, fid in d['changesets'])" <"$R" >"$WORK/acked_changesets"
cmp -s "$WORK/db_changesets" "$WORK/acked_changesets" && ok "changesets in the database = acknowledged ones, owners recorded ($(wc -l <"$WORK/db_changesets"))" || notok "changeset mismatch: $(diff "$WORK/db_changesets" "$WORK/acked_changesets" | head -5)"
n=$(sql "$DB" "SELECT count(*) FROM changes")
[ "$n" = "$want" ] && ok "one change row per edit ($n)" || notok "changes rows $n vs $want"

# The database holds the last acknowledged geometry of each edited community.
sql "$DB" "SELECT fid, MbrMinX(geom), MbrMinY(geom), MbrMaxX(geom), MbrMaxY(geom) FROM communities WHERE fid <= 160" >"$WORK/bounds"
t=$(python3 - "$R" "$WORK/bounds" <<'PY'
import json, sys
acked = json.load(open(sys.argv[1]))["acked"]
bad = 0; n = 0
for line in open(sys.argv[2]):
    fid, *b = line.strip().split("|")
    if fid in acked:
        n += 1
        if any(abs(float(x) - y) > 1e-9 for x, y in zip(b, acked[fid][1])): bad += 1
print(n, bad)
PY
)
read -r nedited nbad <<<"$t"
[ "$nbad" = 0 ] && [ "$nedited" -gt 100 ] && ok "all $nedited edited communities hold their last acknowledged geometry" || notok "$nbad of $nedited communities differ from the last acknowledged edit"

sql "$DB" "SELECT fid, hex(geom) FROM communities WHERE fid > 160 ORDER BY fid" >"$WORK/untouched.after"
cmp -s "$WORK/untouched.before" "$WORK/untouched.after" && ok "the 40 communities nobody edited are byte-identical" || notok "untouched communities changed"
{ snap grids; snap buildings; } | md5sum >"$WORK/others.after"
cmp -s "$WORK/others.before" "$WORK/others.after" && ok "grids and buildings byte-identical" || notok "grids/buildings changed"
exit $FAILED
