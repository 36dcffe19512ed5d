#!/usr/bin/env bash
# it_hostile.sh — every error case of the API answers its status with a JSON body naming the
# problem; path traversal, header floods, oversized and slow clients are refused; and after all of
# it the server still answers correctly.
set -u
. "$(dirname "$0")/http_lib.sh"
WORK=$(mktemp -d)
trap 'stop_server; rm -rf "$WORK"' EXIT
DB=$WORK/city.sqlite
TOKEN=$(make_city "$DB" 2000) || { notok "test city"; exit 1; }
VIEWER=$(cat "$DB.viewer")
start_server "$DB" --threads 2 --max-body 65536 --timeout 2 --per-ip 32 --access-log "$WORK/access.log" || { notok "server start"; exit 1; }

# expect STATUS NAME-SUBSTRING DESCRIPTION-SUBSTRING what -- curl args...
expect() {
  local want=$1 name=$2 desc=$3 what=$4; shift 5
  local out code
  out=$(curl -s -w '\n%{http_code}' "$@")
  code=${out##*$'\n'}; out=${out%$'\n'*}
  local check
  check=$(printf '%s' "$out" | WANT_NAME="$name" WANT_DESC="$desc" python3 -c "
import json,sys,os
try: d=json.load(sys.stdin)
except Exception as e: print('not JSON'); sys.exit()
ok = d.get('code') == $want and os.environ['WANT_NAME'] in d.get('error','') and os.environ['WANT_DESC'] in d.get('description','')
print('yes' if ok else 'wrong body')" 2>/dev/null)
  if [ "$code" = "$want" ] && [ "$check" = yes ]; then ok "$what: $code $(printf '%s' "$out" | jq_py "d['description']" | head -c 110)"
  else notok "$what: got $code $check: $(printf '%s' "$out" | head -c 200)"; fi
}
A=(-H "Authorization: Bearer $TOKEN")
I="$BASE/collections/buildings/items"

expect 404 "not found" "no collection 'nope'" "unknown collection" -- "$BASE/collections/nope/items"
expect 404 "not found" "no collection 'nope'" "unknown collection description" -- "$BASE/collections/nope"
expect 404 "not found" "no feature 999999" "unknown feature id" -- "$I/999999"
expect 404 "not found" "ids are integers" "non-integer feature id" -- "$I/abc"
expect 404 "not found" "no resource at /nothing/here" "unknown path" -- "$BASE/nothing/here"
expect 400 "bad request" "is not a number" "bbox non-numeric" -- "$I?bbox=111.6,40.8,east,40.9"
expect 400 "bad request" "inverted" "bbox inverted" -- "$I?bbox=111.7,40.8,111.6,40.9"
expect 400 "bad request" "latitude outside" "bbox out of range" -- "$I?bbox=111.6,-95,111.7,40.9"
expect 400 "bad request" "longitude outside" "bbox longitude out of range" -- "$I?bbox=-200,40,111.7,40.9"
expect 400 "bad request" "has 3 numbers" "bbox with 3 numbers" -- "$I?bbox=1,2,3"
expect 400 "bad request" "is not a number" "bbox NaN" -- "$I?bbox=nan,40,111.7,40.9"
expect 400 "bad request" "limit '0' is out of range" "limit 0" -- "$I?limit=0"
expect 400 "bad request" "limit '10001' is out of range" "limit 10001" -- "$I?limit=10001"
expect 400 "bad request" "limit 'ten' is out of range" "limit non-numeric" -- "$I?limit=ten"
expect 400 "bad request" "offset '-5' is out of range" "negative offset" -- "$I?offset=-5"
expect 400 "bad request" "not a property of buildings" "filter on an unknown property" -- "$I?colour=red"
expect 400 "bad request" "only f=json" "unsupported format" -- "$I?f=html"
expect 405 "method not allowed" "DELETE" "DELETE on a collection" -- -X DELETE "$BASE/collections"

P="$BASE/api/features/communities/3"
square='{"type":"Polygon","coordinates":[[[111.621,40.801],[111.629,40.801],[111.629,40.809],[111.621,40.809],[111.621,40.801]]]}'
expect 401 "unauthorized" "needs a bearer token with the planner role" "write without a token" -- -X PUT --data "$square" "$P"
expect 401 "unauthorized" "not valid" "write with a wrong token" -- -X PUT -H "Authorization: Bearer gp_0000" --data "$square" "$P"
expect 401 "unauthorized" "must be 'Bearer <token>'" "Basic instead of Bearer" -- -X PUT -u a:b --data "$square" "$P"
expect 403 "forbidden" "has the viewer role" "write with a viewer token" -- -X PUT -H "Authorization: Bearer $VIEWER" --data "$square" "$P"
expect 400 "malformed JSON" "not valid JSON" "malformed JSON" -- -X PUT "${A[@]}" --data '{"type":"Polygon","coordinates":[[[1,2],' "$P"
expect 400 "malformed JSON" "not valid JSON" "empty body" -- -X PUT "${A[@]}" "$P"
expect 422 "wrong geometry type" "must be a Polygon or MultiPolygon" "Point instead of a polygon" -- -X PUT "${A[@]}" --data '{"type":"Point","coordinates":[111.6,40.8]}' "$P"
expect 400 "bad request" "no geometry object" "Feature without geometry" -- -X PUT "${A[@]}" --data '{"type":"Feature","properties":{}}' "$P"
expect 400 "bad geometry" "" "ring not closed" -- -X PUT "${A[@]}" --data '{"type":"Polygon","coordinates":[[[111.6,40.8],[111.61,40.8],[111.61,40.81],[111.6,40.81]]]}' "$P"
expect 400 "bad geometry" "" "non-numeric coordinate" -- -X PUT "${A[@]}" --data '{"type":"Polygon","coordinates":[[["a",40.8],[111.61,40.8],[111.61,40.81],[111.6,40.8]]]}' "$P"
expect 422 "invalid geometry" "outside lon/lat range" "projected coordinates" -- -X PUT "${A[@]}" --data '{"type":"Polygon","coordinates":[[[500000,4500000],[500100,4500000],[500100,4500100],[500000,4500000]]]}' "$P"
expect 404 "not found" "no community with id 999999" "edit of an unknown id" -- -X PUT "${A[@]}" --data "$square" "$BASE/api/features/communities/999999"
expect 404 "not found" "cannot be edited" "edit of a read-only collection" -- -X PUT "${A[@]}" --data "$square" "$BASE/api/features/buildings/1"
head -c 70000 /dev/zero | tr '\0' ' ' >"$WORK/big"
expect 413 "payload too large" "exceeds the limit of 65536 bytes" "oversized body (Content-Length)" -- -X PUT "${A[@]}" --data-binary @"$WORK/big" "$P"
expect 413 "payload too large" "exceeds the limit of 65536 bytes" "oversized chunked body" -- -X PUT "${A[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/big" "$P"

# Path traversal, raw and percent-encoded: never a file, always a JSON 400/404.
for path in "/../../../etc/passwd" "/collections/..%2f..%2fetc%2fpasswd" "/%2e%2e/%2e%2e/etc/passwd" "/collections/communities/items/..%00"; do
  out=$(curl -s --path-as-is -w ' %{http_code}' "$BASE$path")
  case "$out" in *root:*) notok "traversal $path leaked a file";;
    *'"code":400'*' 400'|*'"code":404'*' 404') ok "traversal $path refused: ${out##* }";;
    *) notok "traversal $path: $out";; esac
done

# Raw-socket abuse: a header flood, a 64 KB URL, garbage instead of HTTP, slow clients that never
# finish their headers, more connections than the per-IP limit.
python3 - "$PORT" >"$WORK/raw.txt" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=5); return s
def exchange(data):
    s = conn(); s.sendall(data); out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b: break
            out += b
    except Exception: pass
    s.close(); return out
def status(resp): return resp.split(b" ")[1].decode() if resp.startswith(b"HTTP/") else "closed"
flood = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-Flood-%d: %s\r\n" % (i, b"a" * 1000) for i in range(500)) + b"\r\n"
print("flood", status(exchange(flood)))
print("longurl", status(exchange(b"GET /" + b"a" * 65536 + b" HTTP/1.1\r\nHost: x\r\n\r\n")))
print("garbage", status(exchange(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 200 + b"\r\n\r\n")))
slow = []
for i in range(20):
    s = conn(); s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n"); slow.append(s)
# while they hang, a normal client is served
t = time.time(); ok = status(exchange(b"GET /conformance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
print("served_during_slow", ok, "%.3f" % (time.time() - t))
time.sleep(3.5)  # past the 2 s idle timeout
closed = 0
for s in slow:
    try:
        s.settimeout(0.5)
        closed += s.recv(1) == b""
    except ConnectionResetError: closed += 1
    except Exception: pass
    s.close()
print("slow_closed", closed)
many = []
for i in range(60):
    s = conn(); many.append(s); s.sendall(b"GET /conformance HTTP/1.1\r\nHost: x\r\n\r\n")
# Read within 1 s, well before the 2 s idle timeout frees slots and lets queued connections in.
time.sleep(1.0)
served = refused = 0
for s in many:
    s.setblocking(False)
    try:
        b = s.recv(12)
        served += b.startswith(b"HTTP/1.1 200")
        refused += b == b""
    except BlockingIOError: pass
    except ConnectionResetError: refused += 1
    s.close()
print("per_ip", served, refused)
PY
grep -q '^flood \(431\|400\|413\|closed\)' "$WORK/raw.txt" && ok "header flood refused ($(grep ^flood "$WORK/raw.txt"))" || notok "header flood: $(grep ^flood "$WORK/raw.txt")"
grep -q '^longurl \(414\|431\|400\|closed\)' "$WORK/raw.txt" && ok "64 KB URL refused ($(grep ^longurl "$WORK/raw.txt"))" || notok "long URL: $(grep ^longurl "$WORK/raw.txt")"
grep -q '^garbage \(400\|closed\)' "$WORK/raw.txt" && ok "non-HTTP bytes refused ($(grep ^garbage "$WORK/raw.txt"))" || notok "garbage: $(grep ^garbage "$WORK/raw.txt")"
grep -q '^served_during_slow 200' "$WORK/raw.txt" && ok "served while 20 slow clients hang ($(grep ^served_during "$WORK/raw.txt" | cut -d' ' -f3) s)" || notok "slow clients block: $(grep ^served "$WORK/raw.txt")"
grep -q '^slow_closed 20' "$WORK/raw.txt" && ok "slow clients closed after the 2 s timeout" || notok "slow clients: $(grep ^slow_closed "$WORK/raw.txt")"
read -r _ served refused < <(grep ^per_ip "$WORK/raw.txt")
[ "${served:-0}" = 32 ] && [ "${refused:-0}" = 28 ] && ok "per-IP limit 32: 32 of 60 simultaneous connections served, 28 closed at once" || notok "per-IP limit 32: served $served, closed $refused of 60"

# Still alive and still right.
kill -0 "$SERVER_PID" && ok "server process alive" || notok "server died"
n=$(sql "$DB" "SELECT count(*) FROM buildings")
t=$(curl -s "$I?limit=1" | jq_py "d['numberMatched']")
[ "$t" = "$n" ] && ok "after the abuse: buildings numberMatched $t = database" || notok "after abuse: $t vs $n"
c=$(sql "$DB" "SELECT count(*) FROM changesets")
[ "$c" = 0 ] && ok "no rejected request wrote anything (0 changesets)" || notok "$c changesets written by rejected requests"
stop_server && ok "clean SIGTERM exit after the abuse" || notok "exit status after abuse"
exit $FAILED
