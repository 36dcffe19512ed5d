/* http_plan.c — the planning API: profile, check, search, one community's numbers, police, and
 * split / merge / grids / auto-plan as preview (default) or apply ("apply": true, planner role).
 *
 * Loading the city (plan_io_load) takes about 0.3 s for the demo city's 120k buildings, so each
 * worker keeps the city it loaded last, with the data stamp it was loaded under: meta data_version
 * (bumped by imports), the newest changes.id (every edit, apply and undo), SQLite's data_version
 * (any commit by another connection) and the server's data generation (every write through this
 * server). A request whose stamp matches reuses it (a split preview on the demo city: 0.025 s
 * instead of 0.15 s), so answers still reflect the stored data, including edits made by other
 * workers or processes. The cached city is read-only: handlers plan on copies (plan_city_clone,
 * plan_auto_run), and it lives in the worker's own GEOS context, so no other thread touches it. The
 * price is one city in memory per worker (server RSS +81 MB with 2 workers, demo scale 1). Writes
 * go through plan_io in one transaction and one changeset, after which the other modules are told
 * (http_notify_changed) so tiles and caches expire. The profile is loaded once at start-up (the
 * database's meta.profile, else hohhot-2023) and only read afterwards. */
#include "http.h"
#include "err.h"
#include "plan_io.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static rules_t *plan_rules;   /* read-only after http_plan_init */

static int http_plan_init(const http_config_t *cfg, store_t *st, char *err, size_t errlen) {
    (void)cfg;
    char name[256] = "";
    if (store_meta_get(st, "profile", name, sizeof name) != 0) name[0] = 0;
    return rules_load(name[0] ? name : NULL, &plan_rules, err, errlen);
}

static void http_plan_shutdown(void) {
    rules_free(plan_rules);
    plan_rules = NULL;
}

/* A worker's planning state (its slot): the planning context and the last city it loaded. */
typedef struct plan_worker {
    plan_ctx_t ctx;
    plan_city_t city;        /* valid while stamp[0] != 0 */
    char stamp[96];          /* data_stamp() when the city was loaded */
    uint64_t generation;     /* http_data_generation() then */
} plan_worker_t;

static int http_plan_worker_init(http_worker_t *w, char *err, size_t errlen) {
    plan_worker_t *pw = calloc(1, sizeof *pw);
    if (!pw) return err_set(err, errlen, GP_ENOMEM, "out of memory for the planning context");
    plan_ctx_init(&pw->ctx, w->geos);
    w->slot[HTTP_SLOT_PLAN] = pw;
    return 0;
}

static void http_plan_worker_free(http_worker_t *w) {
    plan_worker_t *pw = w->slot[HTTP_SLOT_PLAN];
    if (!pw) return;
    plan_city_free(w->geos, &pw->city);
    plan_ctx_release(&pw->ctx);
    free(pw);
    w->slot[HTTP_SLOT_PLAN] = NULL;
}

/* The stamp of the stored data; 0, or -1 when it cannot be read (then nothing is cached). SQLite's
 * PRAGMA data_version changes when another connection (another worker, another process, a sqlite3
 * shell) commits to the file, so even writes outside the change log are seen. */
static int data_stamp(store_t *st, char *out, size_t outlen) {
    char version[32] = "0";
    store_meta_get(st, "data_version", version, sizeof version);
    int64_t last = store_last_change_id(st), file = -1;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "PRAGMA data_version", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) file = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    int n = snprintf(out, outlen, "%s:%lld:%lld", version, (long long)last, (long long)file);
    return last >= 0 && file >= 0 && n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* Points *city at the worker's copy of the stored city, loading it when the data changed since (the
 * stamp is read before loading, so a write racing with the load only causes one more reload). The
 * city is borrowed: read it, never change or free it. Fills res->err on failure. */
static int load_city(http_req_t *req, http_res_t *res, const plan_city_t **city) {
    plan_worker_t *pw = req->worker->slot[HTTP_SLOT_PLAN];
    char stamp[sizeof pw->stamp];
    uint64_t generation = http_data_generation();
    int stamped = data_stamp(req->worker->store, stamp, sizeof stamp) == 0;
    *city = &pw->city;
    if (stamped && pw->stamp[0] && !strcmp(stamp, pw->stamp) && generation == pw->generation) return 0;
    plan_city_free(req->worker->geos, &pw->city);
    pw->stamp[0] = 0;
    /* The road envelopes in ctx are keyed by the road layer's address, which a new load may reuse. */
    pw->ctx.roads_seen = NULL;
    int rc = plan_io_load(req->worker->store, req->worker->geos, &pw->city, res->err, sizeof res->err);
    if (rc) return rc;
    if (stamped) {
        memcpy(pw->stamp, stamp, sizeof stamp);
        pw->generation = generation;
    }
    return 0;
}

/* Parses the JSON body (an empty body is {}); on failure answers 400 and returns NULL. */
static json_t *parse_body(http_req_t *req, http_res_t *res) {
    if (!req->body_len) return json_object();
    json_error_t je;
    json_t *j = json_loadb(req->body, req->body_len, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        http_error(res, 400, "bad request", "request body is not a JSON object (line %d: %s)", je.line, je.text);
        return NULL;
    }
    return j;
}

/* "apply": true needs the planner role; answers 401/403 and returns -1 when it is missing. */
static int want_apply(http_req_t *req, http_res_t *res, json_t *body, int *apply) {
    json_t *a = json_object_get(body, "apply");
    *apply = json_is_true(a);
    if (a && !json_is_boolean(a)) {
        http_error(res, 400, "bad request", "\"apply\" must be true or false");
        return -1;
    }
    if (*apply && req->role < AUTH_PLANNER) {
        if (req->role == AUTH_NONE) http_error(res, 401, "unauthorized", "applying a plan needs a planner token (Authorization: Bearer ...)");
        else http_error(res, 403, "forbidden", "applying a plan needs the planner role");
        return -1;
    }
    return 0;
}

static void notify(http_req_t *req, int64_t changeset, const char *table) {
    http_change_t ch = {.table = table, .has_bbox = 0, .changeset = changeset};
    http_notify_changed(req->worker, &ch);
}

static void applied_head(buf_t *out, int apply, int64_t changeset) {
    buf_printf(out, "{\"applied\":%s,\"changeset\":", apply ? "true" : "false");
    if (apply) buf_printf(out, "%lld", (long long)changeset);
    else buf_puts(out, "null");
}

static int plan_profile(http_req_t *req, http_res_t *res) {
    (void)req;
    rules_print(plan_rules, 1, &res->body);
    return 0;
}

static int plan_check(http_req_t *req, http_res_t *res) {
    const plan_city_t *city;
    int rc = load_city(req, res, &city);
    if (rc) return rc;
    plan_check_json(plan_rules, city, &res->body);
    buf_puts(&res->body, "\n");
    return 0;
}

static int plan_police_get(http_req_t *req, http_res_t *res) {
    const char *format = http_query(req, "format");
    char f = !format || !strcmp(format, "json") ? 'j' : !strcmp(format, "csv") ? 'c' : 0;
    if (!f) return http_error(res, 400, "bad request", "format '%.20s': expected json or csv", format);
    const plan_city_t *city;
    int rc = load_city(req, res, &city);
    if (rc) return rc;
    plan_police_report(plan_rules, city, f, &res->body);
    if (f == 'c') {
        res->content_type = "text/csv; charset=utf-8";
        http_res_header(res, "Content-Disposition", "attachment; filename=\"police.csv\"");
    }
    return 0;
}

static int plan_community(http_req_t *req, http_res_t *res) {
    const char *code = http_param(req, "code");
    const plan_city_t *city;
    int rc = load_city(req, res, &city);
    if (rc) return rc;
    int c = plan_city_find(city, code);
    if (c < 0) {
        return http_error(res, 404, "not found", "no community '%.20s'", code);
    }
    const plan_community_t *cm = &city->comms[c];
    rules_band_t band;
    rules_community_band(plan_rules, &band);
    const char *action;
    const char *status = plan_status(&band, cm->households, &action);
    plan_police_t p;
    plan_police(plan_rules, cm->households, cm->population, &p);
    long grids = 0, buildings = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(req->worker->store->db,
                           "SELECT (SELECT count(*) FROM grids WHERE community_code = ?1),"
                           " (SELECT count(*) FROM buildings WHERE community_code = ?1)", -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, cm->code, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            grids = sqlite3_column_int64(s, 0);
            buildings = sqlite3_column_int64(s, 1);
        }
        sqlite3_finalize(s);
    }
    buf_t *o = &res->body;
    buf_printf(o, "{\"code\":\"%s\",\"name\":", cm->code);
    buf_json_string(o, cm->name);
    buf_printf(o, ",\"street_code\":\"%s\",\"households\":%ld,\"population\":%ld,\"locked\":%s,\"status\":\"%s\",\"action\":",
               cm->street_code, cm->households, cm->population, cm->locked ? "true" : "false", status);
    if (action) buf_printf(o, "\"%s\"", action);
    else buf_puts(o, "null");
    buf_printf(o, ",\"minjing\":%ld,\"fujing\":%ld,\"rounding\":\"%s\",\"workers\":%ld,\"grids\":%ld,\"grid_workers\":%ld,"
                  "\"buildings\":%ld,\"profile\":\"%s\",\"band\":[%ld,%ld]}\n",
               p.minjing, p.fujing, p.rounding, p.workers, grids, grids * (long)rules_num(plan_rules, "grid.workers_per_grid", 1),
               buildings, rules_name(plan_rules), band.min, band.max);
    return 0;
}

static int plan_search(http_req_t *req, http_res_t *res) {
    const char *q = http_query(req, "q");
    if (!q || !*q) return http_error(res, 400, "bad request", "search needs ?q=TEXT (part of a name or code)");
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(req->worker->store->db,
                           "SELECT code, name, street_code, MbrMinX(geom), MbrMinY(geom), MbrMaxX(geom), MbrMaxY(geom)"
                           " FROM communities WHERE instr(name, ?1) > 0 OR instr(code, ?1) > 0 ORDER BY code LIMIT 50",
                           -1, &s, NULL) != SQLITE_OK)
        return err_set(res->err, sizeof res->err, GP_EDB, "search: %s", sqlite3_errmsg(req->worker->store->db));
    sqlite3_bind_text(s, 1, q, -1, SQLITE_STATIC);
    buf_puts(&res->body, "[");
    for (int n = 0; sqlite3_step(s) == SQLITE_ROW; n++) {
        buf_printf(&res->body, "%s{\"code\":", n ? "," : "");
        buf_json_string(&res->body, (const char *)sqlite3_column_text(s, 0));
        buf_puts(&res->body, ",\"name\":");
        buf_json_string(&res->body, (const char *)sqlite3_column_text(s, 1));
        buf_puts(&res->body, ",\"street_code\":");
        buf_json_string(&res->body, (const char *)sqlite3_column_text(s, 2));
        buf_printf(&res->body, ",\"bbox\":[%.7f,%.7f,%.7f,%.7f]}", sqlite3_column_double(s, 3), sqlite3_column_double(s, 4),
                   sqlite3_column_double(s, 5), sqlite3_column_double(s, 6));
    }
    sqlite3_finalize(s);
    buf_puts(&res->body, "]\n");
    return 0;
}

static int plan_split_post(http_req_t *req, http_res_t *res) {
    json_t *body = parse_body(req, res);
    if (!body) return 0;
    int apply, rc = 0;
    const char *code = json_string_value(json_object_get(body, "community"));
    json_t *jparts = json_object_get(body, "parts");
    if (want_apply(req, res, body, &apply)) { json_decref(body); return 0; }
    if (!code || (jparts && !json_is_integer(jparts))) {
        json_decref(body);
        return http_error(res, 400, "bad request", "expected {\"community\": CODE, \"parts\": K (optional), \"apply\": bool}");
    }
    GEOSContextHandle_t g = req->worker->geos;
    plan_ctx_t *ctx = &((plan_worker_t *)req->worker->slot[HTTP_SLOT_PLAN])->ctx;
    const plan_city_t *city = NULL;
    plan_city_t after = {0};
    plan_split_t *sp = NULL;
    char codes[256];
    rules_band_t band;
    rules_community_band(plan_rules, &band);
    if ((rc = load_city(req, res, &city))) goto end;
    int c = plan_city_find(city, code);
    if (c < 0) { rc = http_error(res, 404, "not found", "no community '%.20s'", code); goto end; }
    if (plan_city_clone(g, city, &after)) { rc = err_set(res->err, sizeof res->err, GP_ENOMEM, "out of memory"); goto end; }
    rc = plan_city_split(ctx, &after, c, jparts ? (int)json_integer_value(jparts) : 0, &band, &sp, codes, sizeof codes,
                         res->err, sizeof res->err);
    if (rc) goto end;
    int64_t changeset = 0;
    if (apply) {
        char summary[512];
        snprintf(summary, sizeof summary, "{\"community\":\"%s\",\"parts\":%d,\"codes\":\"%s\"}", code, sp->k, codes);
        if ((rc = plan_io_apply_city(req->worker->store, g, city, &after, req->user, "split", summary, &changeset, res->err,
                                     sizeof res->err)))
            goto end;
        notify(req, changeset, "communities");
        res->no_etag = 1;
    }
    applied_head(&res->body, apply, changeset);
    buf_puts(&res->body, ",\"features\":");
    plan_parts_geojson(g, sp->parts, (size_t)sp->k, &res->body);
    buf_puts(&res->body, ",\"quality\":");
    plan_quality_json(&sp->quality, &res->body);
    buf_puts(&res->body, ",\"reason\":");
    buf_json_string(&res->body, sp->reason);
    buf_puts(&res->body, "}\n");
end:
    plan_split_free(g, sp);
    plan_city_free(g, &after);
    json_decref(body);
    return rc;
}

static int plan_merge_post(http_req_t *req, http_res_t *res) {
    json_t *body = parse_body(req, res);
    if (!body) return 0;
    int apply, rc = 0;
    const char *code = json_string_value(json_object_get(body, "community"));
    const char *into = json_string_value(json_object_get(body, "into"));
    if (want_apply(req, res, body, &apply)) { json_decref(body); return 0; }
    if (!code) {
        json_decref(body);
        return http_error(res, 400, "bad request", "expected {\"community\": CODE, \"into\": CODE (optional), \"apply\": bool}");
    }
    GEOSContextHandle_t g = req->worker->geos;
    plan_ctx_t *ctx = &((plan_worker_t *)req->worker->slot[HTTP_SLOT_PLAN])->ctx;
    const plan_city_t *city = NULL;
    plan_city_t after = {0};
    plan_merge_t m = {0};
    rules_band_t band;
    rules_community_band(plan_rules, &band);
    if ((rc = load_city(req, res, &city))) goto end;
    int c = plan_city_find(city, code), to = -1;
    if (c < 0) { rc = http_error(res, 404, "not found", "no community '%.20s'", code); goto end; }
    if (into && (to = plan_city_find(city, into)) < 0) { rc = http_error(res, 404, "not found", "no community '%.20s'", into); goto end; }
    if (plan_city_clone(g, city, &after)) { rc = err_set(res->err, sizeof res->err, GP_ENOMEM, "out of memory"); goto end; }
    rc = plan_city_merge(ctx, &after, c, to, &band, &m, res->err, sizeof res->err);
    if (rc == GP_ECONFLICT) { rc = http_error(res, 409, "conflict", "%s", res->err); goto end; }
    if (rc) goto end;   /* GP_EINFEASIBLE: 422 with the reason */
    char into_code[16];
    snprintf(into_code, sizeof into_code, "%s", city->comms[m.into].code);
    plan_city_compact(&after);
    int64_t changeset = 0;
    if (apply) {
        char summary[256];
        snprintf(summary, sizeof summary, "{\"community\":\"%s\",\"into\":\"%s\"}", code, into_code);
        if ((rc = plan_io_apply_city(req->worker->store, g, city, &after, req->user, "merge", summary, &changeset, res->err,
                                     sizeof res->err)))
            goto end;
        notify(req, changeset, "communities");
        res->no_etag = 1;
    }
    plan_part_t merged = {.geom = m.geom, .households = m.households, .population = m.population, .seq = 1, .valid = 1,
                          .contiguous = GEOSGeomTypeId_r(g, m.geom) == GEOS_POLYGON,
                          .in_band = m.households >= band.min && m.households <= band.max};
    snprintf(merged.code, sizeof merged.code, "%s", into_code);
    plan_part_measure(ctx, &merged, NULL, 0);
    applied_head(&res->body, apply, changeset);
    buf_puts(&res->body, ",\"features\":");
    plan_parts_geojson(g, &merged, 1, &res->body);
    buf_printf(&res->body, ",\"quality\":{\"community\":\"%s\",\"into\":\"%s\",\"shared_boundary_m\":%.1f,\"same_street\":%s,"
                           "\"households\":%ld,\"area_ratio\":%.3g}}\n",
               code, into_code, m.shared_m, m.same_street ? "true" : "false", m.households, m.area_ratio);
end:
    GEOSGeom_destroy_r(g, m.geom);
    plan_city_free(g, &after);
    json_decref(body);
    return rc;
}

static int plan_grids_post(http_req_t *req, http_res_t *res) {
    json_t *body = parse_body(req, res);
    if (!body) return 0;
    int apply, rc = 0;
    const char *code = json_string_value(json_object_get(body, "community"));
    if (want_apply(req, res, body, &apply)) { json_decref(body); return 0; }
    GEOSContextHandle_t g = req->worker->geos;
    plan_ctx_t *ctx = &((plan_worker_t *)req->worker->slot[HTTP_SLOT_PLAN])->ctx;
    const plan_city_t *city = NULL;
    plan_gridset_t *gs = NULL;
    rules_band_t band;
    rules_grid_band(plan_rules, &band);
    if ((rc = load_city(req, res, &city))) goto end;
    int only = -1;
    if (code && (only = plan_city_find(city, code)) < 0) { rc = http_error(res, 404, "not found", "no community '%.20s'", code); goto end; }
    if ((rc = plan_grids_city(ctx, city, &band, only, &gs, res->err, sizeof res->err))) goto end;
    int64_t changeset = 0;
    if (apply) {
        if ((rc = plan_io_apply_grids(req->worker->store, g, city, gs, req->user, &changeset, res->err, sizeof res->err))) goto end;
        notify(req, changeset, "grids");
        res->no_etag = 1;
    }
    applied_head(&res->body, apply, changeset);
    buf_puts(&res->body, ",\"features\":");
    plan_parts_geojson(g, gs->grids, gs->n, &res->body);
    buf_puts(&res->body, ",\"quality\":");
    plan_quality_json(&gs->quality, &res->body);
    buf_puts(&res->body, "}\n");
end:
    plan_gridset_free(g, gs);
    json_decref(body);
    return rc;
}

static int plan_auto_post(http_req_t *req, http_res_t *res) {
    json_t *body = parse_body(req, res);
    if (!body) return 0;
    int apply, rc = 0;
    if (want_apply(req, res, body, &apply)) { json_decref(body); return 0; }
    GEOSContextHandle_t g = req->worker->geos;
    plan_ctx_t *ctx = &((plan_worker_t *)req->worker->slot[HTTP_SLOT_PLAN])->ctx;
    const plan_city_t *city = NULL;
    plan_auto_t *a = NULL;
    if ((rc = load_city(req, res, &city))) goto end;
    if ((rc = plan_auto_run(ctx, city, plan_rules, &a, res->err, sizeof res->err))) goto end;
    int64_t changeset = 0;
    int changes = 0;
    for (size_t i = 0; i < a->nactions; i++) changes += a->actions[i].ok;
    if (apply && changes) {
        char summary[256];
        snprintf(summary, sizeof summary, "{\"profile\":\"%s\",\"actions\":%d}", rules_name(plan_rules), changes);
        if ((rc = plan_io_apply_city(req->worker->store, g, city, &a->city, req->user, "plan", summary, &changeset, res->err,
                                     sizeof res->err)))
            goto end;
        notify(req, changeset, "communities");
        res->no_etag = 1;
    }
    applied_head(&res->body, apply && changes, changeset);
    buf_puts(&res->body, ",");
    /* plan_auto_json writes a whole object; splice its members in after ours. */
    size_t at = res->body.len;
    plan_auto_json(a, &res->body);
    memmove(res->body.data + at, res->body.data + at + 1, res->body.len - at);
    res->body.len--;
    buf_puts(&res->body, "\n");
end:
    plan_auto_free(g, a);
    json_decref(body);
    return rc;
}

static const http_route_t plan_routes[] = {
    {"GET", "/api/profile", plan_profile, AUTH_NONE},
    {"GET", "/api/check", plan_check, AUTH_NONE},
    {"GET", "/api/communities/{code}", plan_community, AUTH_NONE},
    {"GET", "/api/search", plan_search, AUTH_NONE},
    {"GET", "/api/police", plan_police_get, AUTH_NONE},
    {"POST", "/api/split", plan_split_post, AUTH_NONE},
    {"POST", "/api/merge", plan_merge_post, AUTH_NONE},
    {"POST", "/api/grids", plan_grids_post, AUTH_NONE},
    {"POST", "/api/plan", plan_auto_post, AUTH_NONE},
    {NULL, NULL, NULL, 0}};

const http_module_t http_plan_module = {
    .name = "plan",
    .routes = plan_routes,
    .init = http_plan_init,
    .worker_init = http_plan_worker_init,
    .worker_free = http_plan_worker_free,
    .shutdown = http_plan_shutdown,
};
