# http_lib.sh — shared by the it_* HTTP tests: a small synthetic city database and a server on a
# free port. Source it; needs $GRIDPLAN, sqlite3 with mod_spatialite, curl.
#
# The city (EPSG:4326, around Hohhot): 2 streets; 200 communities as a 20 x 10 block of 0.01°
# squares (street by column); 400 grids (west/east halves); BUILDINGS points (default 5,000) spread
# over the communities; 100 facilities; 20 roads. The schema comes from gridplan itself
# (`gridplan token add --init` creates an empty gridplan database), the rows from plain SQL.

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; FAILED=1; }
FAILED=0

# make_city DB [BUILDINGS] — creates DB and prints a planner token on stdout (a second, viewer
# token is left in $DB.viewer).
make_city() {
  local db=$1 nb=${2:-5000}
  "$GRIDPLAN" token add --db "$db" --init --name planner1 --role planner || return 1
  "$GRIDPLAN" token add --db "$db" --name viewer1 --role viewer >"$db.viewer" || return 1
  sqlite3 "$db" >/dev/null <<SQL || return 1
SELECT load_extension('mod_spatialite');
BEGIN;
INSERT INTO streets(code, name, county_code, geom) VALUES
 ('150102001', '东街', '150102', CastToMulti(BuildMbr(111.6, 40.8, 111.7, 40.9, 4326))),
 ('150102002', '西街', '150102', CastToMulti(BuildMbr(111.7, 40.8, 111.8, 40.9, 4326)));
WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < 199)
INSERT INTO communities(code, name, street_code, households, population, geom)
SELECT '15010200' || (1 + (n % 20) / 10) || printf('%03d', n + 1), '社区' || (n + 1), '15010200' || (1 + (n % 20) / 10),
       500 + (n * 37) % 4000, 1200 + (n * 91) % 9000,
       CastToMulti(BuildMbr(111.6 + (n % 20) * 0.01, 40.8 + (n / 20) * 0.01, 111.61 + (n % 20) * 0.01, 40.81 + (n / 20) * 0.01, 4326))
FROM i;
INSERT INTO grids(code, community_code, seq, households, population, geom)
SELECT c.code || printf('%03d', s.seq), c.code, s.seq, c.households / 2, c.population / 2,
       CastToMulti(BuildMbr(MbrMinX(c.geom) + (s.seq - 1) * 0.005, MbrMinY(c.geom), MbrMinX(c.geom) + s.seq * 0.005, MbrMaxY(c.geom), 4326))
FROM communities c, (SELECT 1 AS seq UNION ALL SELECT 2) s;
WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < $nb - 1)
INSERT INTO buildings(ext_id, name, households, population, floors, community_code, geom)
SELECT 'b' || n, n || '号楼', 10 + n % 90, 25 + n % 200, 1 + n % 30, NULL,
       MakePoint(111.6 + ((n * 7919) % 200000) / 1000000.0, 40.8 + ((n * 104729) % 100000) / 1000000.0, 4326)
FROM i;
UPDATE buildings SET community_code = (SELECT code FROM communities c WHERE c.fid IN
  (SELECT pkid FROM idx_communities_geom WHERE xmin <= MbrMinX(buildings.geom) AND xmax >= MbrMinX(buildings.geom)
   AND ymin <= MbrMinY(buildings.geom) AND ymax >= MbrMinY(buildings.geom)) ORDER BY c.fid LIMIT 1);
WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < 99)
INSERT INTO facilities(ext_id, type, name, geom)
SELECT 'f' || n, CASE n % 4 WHEN 0 THEN 'clinic' WHEN 1 THEN 'school' WHEN 2 THEN 'police' ELSE 'fire_station' END,
       '设施' || n, MakePoint(111.6 + (n % 10) * 0.02 + 0.003, 40.8 + (n / 10) * 0.01 + 0.004, 4326) FROM i;
WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM i WHERE n < 19)
INSERT INTO roads(ext_id, class, name, geom)
SELECT 'r' || n, 'residential', '路' || n,
       CastToMulti(MakeLine(MakePoint(111.6 + n * 0.01, 40.8, 4326), MakePoint(111.6 + n * 0.01, 40.9, 4326))) FROM i;
COMMIT;
SQL
}

# sql DB "SELECT ..." — one value, with SpatiaLite loaded.
sql() { sqlite3 "$1" "SELECT load_extension('mod_spatialite');" "$2" | tail -n +2; }

# start_server DB [extra flags...] — sets PORT, SERVER_PID, BASE; the server log is $WORK/server.log.
start_server() {
  local db=$1; shift
  "$GRIDPLAN" serve --db "$db" --port 0 "$@" >"$WORK/server.out" 2>"$WORK/server.log" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*http:\/\/127\.0\.0\.1:\([0-9]*\)\/.*/\1/p' "$WORK/server.out")
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$PORT" ]; then echo "server did not start:"; cat "$WORK/server.log"; return 1; fi
  BASE="http://127.0.0.1:$PORT"
}

stop_server() {
  [ -n "${SERVER_PID:-}" ] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  local rc=$?
  SERVER_PID=
  return $rc
}

# status URL [curl args...] — prints the HTTP status code.
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# jq_py EXPR < json — evaluates a Python expression on the parsed JSON document `d`.
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
