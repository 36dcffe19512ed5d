#!/usr/bin/env bash
# it_plan_http.sh — the planning API over HTTP: profile, check, community numbers, search, police CSV,
# split preview and apply (401 without a token, 403 for a viewer), undo of the applied split, merge
# refused with 422 and its reason, grids and auto-plan previews; the per-worker city cache follows
# applies, undos and edits by other processes.
set -u
. "$(dirname "$0")/http_lib.sh"
WORK=$(mktemp -d)
trap 'stop_server; rm -rf "$WORK"' EXIT
DB=$WORK/city.sqlite
TOKEN=$(make_city "$DB") || { notok "test city"; exit 1; }
VIEWER=$(cat "$DB.viewer")
start_server "$DB" --threads 2 || { notok "server start"; exit 1; }

t=$(curl -s "$BASE/api/profile" | jq -r '.name + " " + (.values | map(select(.path == "community.split_above"))[0].value | tostring)')
[ "$t" = "hohhot-2023 4000" ] && ok "GET /api/profile: numbers with sources" || notok "profile: $t"
t=$(curl -s "$BASE/api/check" | jq -r 'length, (map(select(.action == "split")) | length)' | paste -sd' ')
n_split=$(sql "$DB" "SELECT count(*) FROM communities WHERE households > 4000")
[ "$t" = "200 $n_split" ] && ok "GET /api/check: 200 communities, $n_split to split" || notok "check: $t (want 200 $n_split)"
t=$(curl -s "$BASE/api/communities/150102001001" | jq -r '[.code, .minjing, .fujing, .grids] | map(tostring) | join(" ")')
[ "$t" = "150102001001 1 1 2" ] && ok "GET /api/communities/{code}" || notok "community: $t"
[ "$(status "$BASE/api/communities/999999999999")" = 404 ] && ok "unknown community: 404" || notok "unknown community"
t=$(curl -s "$BASE/api/search?q=%E7%A4%BE%E5%8C%BA19" | jq -r 'length, (map(select(.name == "社区19"))[0].code)' | paste -sd' ')
[ "$t" = "11 150102002019" ] && ok "GET /api/search by name (社区19 and 社区190..199)" || notok "search: $t"
curl -s "$BASE/api/police?format=csv" -o "$WORK/police.csv"
[ "$(head -c 3 "$WORK/police.csv" | od -An -tx1 | tr -d ' ')" = efbbbf ] && [ "$(grep -c '^community,' "$WORK/police.csv")" = 200 ] \
  && ok "GET /api/police?format=csv: BOM, 200 communities" || notok "police csv"

body='{"community":"150102001001","parts":2}'
t=$(curl -s -X POST "$BASE/api/split" -d "$body" | jq -r '[.applied, (.features.features | length), .quality.contiguous, .quality.households_in == .quality.households_out] | map(tostring) | join(" ")')
[ "$t" = "false 2 true true" ] && ok "POST /api/split preview: 2 contiguous parts, households conserved" || notok "split preview: $t"
[ "$(sql "$DB" "SELECT count(*) FROM communities")" = 200 ] && ok "preview writes nothing" || notok "preview wrote"
body='{"community":"150102001001","parts":2,"apply":true}'
[ "$(status -X POST "$BASE/api/split" -d "$body")" = 401 ] && ok "apply without a token: 401" || notok "apply without token"
[ "$(status -X POST -H "Authorization: Bearer $VIEWER" "$BASE/api/split" -d "$body")" = 403 ] && ok "apply as viewer: 403" || notok "viewer apply"
before=$(sql "$DB" "SELECT group_concat(hex(geom)) FROM (SELECT geom FROM communities ORDER BY code)" | md5sum)
cs=$(curl -s -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/split" -d "$body" | jq -r '.changeset')
[ "$(sql "$DB" "SELECT count(*) FROM communities")" = 201 ] && [ "$cs" -gt 0 ] 2>/dev/null \
  && ok "apply as planner: changeset $cs, 201 communities" || notok "split apply: changeset '$cs'"
# Each worker caches the loaded city per data stamp: an apply must be seen by every worker at once.
t=$(for i in 1 2 3 4; do curl -s "$BASE/api/check" | jq length; done | paste -sd' ')
[ "$t" = "201 201 201 201" ] && ok "GET /api/check after the apply: 201 on every request (cached city reloaded)" || notok "check after apply: $t"
[ "$(status -X POST -H "Authorization: Bearer $TOKEN" "$BASE/api/undo/$cs")" = 200 ] \
  && [ "$(sql "$DB" "SELECT group_concat(hex(geom)) FROM (SELECT geom FROM communities ORDER BY code)" | md5sum)" = "$before" ] \
  && ok "POST /api/undo/$cs restores byte-identical communities" || notok "undo"

t=$(for i in 1 2 3 4; do curl -s "$BASE/api/check" | jq length; done | paste -sd' ')
[ "$t" = "200 200 200 200" ] && ok "GET /api/check after the undo: 200 on every request" || notok "check after undo: $t"
# A write by another process, outside the change log, is seen too (SQLite's data_version).
sql "$DB" "UPDATE communities SET households = 4321 WHERE code = '150102001002'" >/dev/null
t=$(for i in 1 2 3 4; do curl -s "$BASE/api/communities/150102001002" | jq .households; done | paste -sd' ')
[ "$t" = "4321 4321 4321 4321" ] && ok "an edit by another process is seen by every worker" || notok "external edit: $t"

# 150102001001 and 150102001003 do not touch: refused with a reason.
curl -s -o "$WORK/merge.json" -w '%{http_code}' -X POST "$BASE/api/merge" -d '{"community":"150102001001","into":"150102001003"}' >"$WORK/code"
[ "$(cat "$WORK/code")" = 422 ] && grep -q "shares no boundary" "$WORK/merge.json" && ok "merge with a non-neighbour: 422 with the reason" \
  || notok "merge refusal: $(cat "$WORK/code") $(cat "$WORK/merge.json")"
t=$(curl -s -X POST "$BASE/api/grids" -d '{"community":"150102001001"}' | jq -r '[.applied, (.features.features[0].properties.code | length)] | map(tostring) | join(" ")')
[ "$t" = "false 15" ] && ok "POST /api/grids preview: 15-digit codes" || notok "grids: $t"
t=$(curl -s -X POST "$BASE/api/plan" -d '{}' | jq -r '[.applied, (.splits | type), (.merges | type)] | map(tostring) | join(" ")')
[ "$t" = "false array array" ] && ok "POST /api/plan preview" || notok "plan: $t"
exit ${FAILED:-0}
