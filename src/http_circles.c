/* http_circles.c — the computed OGC API collections `circles` (dissolved service circles per circle
 * type and mode) and `coverage` (one feature per community and mode: households, population and
 * special groups reached by each circle, the complete life circle check).
 *
 * Both are computed from the whole database, so they are cached as one immutable snapshot shared
 * by every worker: a snapshot is valid while the data stamp (meta data_version + newest changes.id,
 * circles_store_stamp) and the server's data generation are unchanged. The first request after an
 * edit or import rebuilds it (one worker builds, others wait on the lock and then share it); readers
 * hold a reference, so a rebuild never frees what a response is still reading. */
#include "circles.h"
#include "coverage.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hc_feature {
    char *json;            /* one Feature object, compact */
    double bbox[4];        /* lon/lat */
    json_t *props;         /* read-only after build (no refcount changes across threads) */
} hc_feature_t;

typedef struct hc_list { hc_feature_t *f; int n, cap; } hc_list_t;

/* Network circles take seconds to tens of seconds on a city (a buffer of every reached road), so
 * they are built only when a request asks for mode=network (or one of their ids), under hc_lock. */
#define HC_NETWORK_ID_BASE 1000000

typedef struct hc_snapshot {
    atomic_int refs;
    char stamp[96];
    uint64_t generation;
    hc_list_t circles, coverage;    /* straight circles; coverage in both modes */
    hc_list_t circles_network;      /* valid once network_built (set under hc_lock) */
    int network_built;
    circles_data_t *d;              /* kept for the network circles */
    circles_defs_t *defs;
} hc_snapshot_t;

static pthread_mutex_t hc_lock = PTHREAD_MUTEX_INITIALIZER;
static hc_snapshot_t *hc_current;

static void hc_list_free(hc_list_t *l) {
    for (int i = 0; i < l->n; i++) {
        free(l->f[i].json);
        json_decref(l->f[i].props);
    }
    free(l->f);
}

static void hc_unref(hc_snapshot_t *s) {
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    hc_list_free(&s->circles);
    hc_list_free(&s->coverage);
    hc_list_free(&s->circles_network);
    circles_defs_free(s->defs);
    /* The dataset's geometries are freed through a context of this thread: GEOS contexts only
     * carry message handlers, so one made here serves. */
    GEOSContextHandle_t g = s->d ? geo_ctx_new() : NULL;
    circles_data_free(g, s->d);
    geo_ctx_free(g);
    free(s);
}

/* Extends bbox by every position under a GeoJSON coordinates array. */
static void hc_bbox_walk(const json_t *c, double bbox[4]) {
    if (!json_is_array(c) || json_array_size(c) == 0) return;
    if (json_is_number(json_array_get(c, 0))) {
        double x = json_number_value(json_array_get(c, 0)), y = json_number_value(json_array_get(c, 1));
        if (x < bbox[0]) bbox[0] = x;
        if (y < bbox[1]) bbox[1] = y;
        if (x > bbox[2]) bbox[2] = x;
        if (y > bbox[3]) bbox[3] = y;
        return;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(c, i, v) hc_bbox_walk(v, bbox);
}

/* Takes a Feature (stolen reference), gives it the next id (after base), and appends it. */
static int hc_add(hc_list_t *l, json_t *feature, int64_t base) {
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 64;
        hc_feature_t *nf = realloc(l->f, (size_t)nc * sizeof *nf);
        if (!nf) { json_decref(feature); return GP_ENOMEM; }
        l->f = nf;
        l->cap = nc;
    }
    hc_feature_t *f = &l->f[l->n];
    json_object_set_new(feature, "id", json_integer(base + l->n + 1));
    f->bbox[0] = f->bbox[1] = 1e300;
    f->bbox[2] = f->bbox[3] = -1e300;
    hc_bbox_walk(json_object_get(json_object_get(feature, "geometry"), "coordinates"), f->bbox);
    f->props = json_incref(json_object_get(feature, "properties"));
    f->json = json_dumps(feature, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(feature);
    if (!f->json) { json_decref(f->props); return GP_ENOMEM; }
    l->n++;
    return GP_OK;
}

static int hc_add_circles(http_worker_t *w, circles_data_t *d, const circles_defs_t *defs, circles_mode_t mode, hc_list_t *l,
                          char *err, size_t errlen) {
    buf_t out = {0};
    int rc = circles_geojson(w->geos, d, defs, NULL, mode, CIRCLES_PER_TYPE, &out, err, errlen);
    json_t *fc = rc ? NULL : json_loadb(out.data, out.len, 0, NULL);
    buf_free(&out);
    if (rc) return rc;
    if (!fc) return err_set(err, errlen, GP_EINVAL, "circles: internal GeoJSON did not parse");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(fc, "features"), i, f) {
        if ((rc = hc_add(l, json_incref(f), mode == CIRCLES_NETWORK ? HC_NETWORK_ID_BASE : 0))) break;
    }
    json_decref(fc);
    return rc;
}

static int hc_add_coverage(http_worker_t *w, circles_data_t *d, const circles_defs_t *defs, circles_mode_t mode, hc_list_t *l,
                           char *err, size_t errlen) {
    coverage_t *cov;
    int rc = coverage_compute(w->geos, d, defs, mode, 1.0, &cov, err, errlen);
    if (rc) return rc;
    buf_t g = {0};
    for (int i = 0; i < d->n_communities && !rc; i++) {
        const circles_area_t *a = &d->communities[i];
        const coverage_area_t *row = &cov->communities[i];
        GEOSGeometry *ll = srs_transform(w->geos, d->to_lonlat, a->geom, err, errlen);
        if (!ll) { rc = GP_EGEOM; break; }
        buf_reset(&g);
        rc = geo_to_geojson(w->geos, ll, 7, &g);
        GEOSGeom_destroy_r(w->geos, ll);
        json_t *geom = rc ? NULL : json_loadb(g.data, g.len, 0, NULL);
        json_t *props = json_object();
        json_object_set_new(props, "code", json_string(a->code));
        json_object_set_new(props, "name", json_string(a->name));
        json_object_set_new(props, "mode", json_string(circles_mode_name(mode)));
        for (int k = 0; k < COV_N; k++) json_object_set_new(props, coverage_count_names[k], json_integer(row->total.v[k]));
        char key[96], missing[512] = "";
        for (int c = 0; c < defs->n; c++) {
            const char *id = defs->defs[c].id;
            snprintf(key, sizeof key, "%s_households", id);
            json_object_set_new(props, key, json_integer(row->covered[c].v[COV_HOUSEHOLDS]));
            snprintf(key, sizeof key, "%s_population", id);
            json_object_set_new(props, key, json_integer(row->covered[c].v[COV_POPULATION]));
            snprintf(key, sizeof key, "%s_elderly_alone", id);
            json_object_set_new(props, key, json_integer(row->covered[c].v[COV_ELDERLY_ALONE]));
            snprintf(key, sizeof key, "%s_share", id);
            json_object_set_new(props, key, json_real((double)(int64_t)(coverage_share(row, c) * 10000 + 0.5) / 10000));
            if (defs->defs[c].required && row->total.v[COV_BUILDINGS] > 0 && coverage_share(row, c) < 1.0 - 1e-12)
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", *missing ? "," : "", id);
        }
        json_object_set_new(props, "life_circle_complete", row->life_circle < 0 ? json_null() : json_boolean(row->life_circle));
        json_object_set_new(props, "missing", json_string(missing));
        json_t *feature = json_pack("{s:s,s:o?,s:o}", "type", "Feature", "geometry", geom, "properties", props);
        rc = feature ? hc_add(l, feature, 0) : GP_ENOMEM;
    }
    buf_free(&g);
    coverage_free(cov);
    return rc;
}

/* Builds a snapshot from the worker's connection. */
static int hc_build(http_worker_t *w, const char *stamp, uint64_t generation, hc_snapshot_t **out, char *err, size_t errlen) {
    double t0 = log_now();
    hc_snapshot_t *s = calloc(1, sizeof *s);
    circles_defs_t *defs = NULL;
    circles_data_t *d = NULL;
    if (!s) return GP_ENOMEM;
    atomic_init(&s->refs, 1);
    snprintf(s->stamp, sizeof s->stamp, "%s", stamp);
    s->generation = generation;
    int rc = circles_defs_for_store(w->store, &defs, NULL, 0, err, errlen);
    if (!rc) rc = circles_data_load(w->geos, w->store, &d, err, errlen);
    if (rc == GP_ENOTFOUND) rc = GP_OK;   /* an empty database: empty collections */
    if (d && !rc) rc = hc_add_circles(w, d, defs, CIRCLES_STRAIGHT, &s->circles, err, errlen);
    for (int mode = 0; d && !rc && mode < 2; mode++) {
        if (mode == CIRCLES_NETWORK && d->n_roads == 0) break;
        rc = hc_add_coverage(w, d, defs, (circles_mode_t)mode, &s->coverage, err, errlen);
    }
    if (!rc)
        log_info("circles: %d circle and %d coverage features for data %s in %.2f s", s->circles.n, s->coverage.n, stamp,
                 log_now() - t0);
    s->d = d;
    s->defs = defs;
    if (rc) hc_unref(s);
    else *out = s;
    return rc;
}

/* Builds the snapshot's network circles once (no-op without roads). Call with hc_lock held. */
static int hc_build_network(http_worker_t *w, hc_snapshot_t *s, char *err, size_t errlen) {
    if (s->network_built) return GP_OK;
    double t0 = log_now();
    int rc = s->d && s->d->n_roads > 0 ? hc_add_circles(w, s->d, s->defs, CIRCLES_NETWORK, &s->circles_network, err, errlen) : GP_OK;
    if (rc) return rc;
    s->network_built = 1;
    log_info("circles: %d network circle features for data %s in %.2f s", s->circles_network.n, s->stamp, log_now() - t0);
    return GP_OK;
}

/* The current snapshot with a reference (hc_unref), rebuilt when the data moved on. */
static int hc_get(http_worker_t *w, hc_snapshot_t **out, char *err, size_t errlen) {
    char stamp[96];
    if (circles_store_stamp(w->store, stamp, sizeof stamp)) return err_set(err, errlen, GP_EDB, "cannot read the data version");
    uint64_t generation = http_data_generation();
    pthread_mutex_lock(&hc_lock);
    int rc = GP_OK;
    if (!hc_current || strcmp(hc_current->stamp, stamp) || hc_current->generation != generation) {
        hc_snapshot_t *fresh = NULL;
        rc = hc_build(w, stamp, generation, &fresh, err, errlen);
        if (!rc) {
            hc_unref(hc_current);
            hc_current = fresh;
        }
    }
    if (!rc) {
        atomic_fetch_add(&hc_current->refs, 1);
        *out = hc_current;
    }
    pthread_mutex_unlock(&hc_lock);
    return rc;
}

/* A property value as its query-string form, for equality filters. */
static int hc_value_matches(const json_t *v, const char *want) {
    char text[64];
    if (json_is_string(v)) return !strcmp(json_string_value(v), want);
    if (json_is_integer(v)) snprintf(text, sizeof text, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) snprintf(text, sizeof text, "%g", json_real_value(v));
    else if (json_is_boolean(v)) snprintf(text, sizeof text, "%s", json_is_true(v) ? "true" : "false");
    else snprintf(text, sizeof text, "null");
    return !strcmp(text, want);
}

static int hc_items(const hc_list_t *l, const char *collection, const http_items_query_t *q, buf_t *out, int64_t *matched,
                    int64_t *returned, char *err, size_t errlen) {
    for (int k = 0; k < q->nfilters && l->n > 0; k++)
        if (!json_object_get(l->f[0].props, q->filter_names[k]))
            return err_set(err, errlen, GP_EINVAL, "%s has no property '%.60s' to filter on", collection, q->filter_names[k]);
    *matched = *returned = 0;
    for (int i = 0; i < l->n; i++) {
        const hc_feature_t *f = &l->f[i];
        if (q->has_bbox && (f->bbox[2] < q->bbox[0] || f->bbox[0] > q->bbox[2] || f->bbox[3] < q->bbox[1] || f->bbox[1] > q->bbox[3]))
            continue;
        int ok = 1;
        for (int k = 0; k < q->nfilters && ok; k++) ok = hc_value_matches(json_object_get(f->props, q->filter_names[k]), q->filter_values[k]);
        if (!ok) continue;
        if (*matched >= q->offset && *returned < q->limit) {
            if (*returned) buf_puts(out, ",");
            if (buf_puts(out, f->json)) return GP_ENOMEM;
            (*returned)++;
        }
        (*matched)++;
    }
    return GP_OK;
}

static int hc_item(const hc_list_t *l, int64_t fid, buf_t *out) {
    if (fid > HC_NETWORK_ID_BASE) fid -= HC_NETWORK_ID_BASE;
    if (fid < 1 || fid > l->n) return GP_ENOTFOUND;
    return buf_puts(out, l->f[fid - 1].json);
}

/* Serves from the current snapshot's circles (which = 0) or coverage (1) list. */
static int hc_serve(http_worker_t *w, int which, const http_items_query_t *q, int64_t fid, buf_t *out, int64_t *matched,
                    int64_t *returned, char *err, size_t errlen) {
    hc_snapshot_t *s = NULL;
    int rc = hc_get(w, &s, err, errlen);
    if (rc) return rc;
    const hc_list_t *l = which ? &s->coverage : &s->circles;
    int network = 0;
    for (int k = 0; q && k < q->nfilters; k++)
        network |= !strcmp(q->filter_names[k], "mode") && !strcmp(q->filter_values[k], "network");
    if (!which && (network || (!q && fid > HC_NETWORK_ID_BASE))) {
        pthread_mutex_lock(&hc_lock);
        rc = hc_build_network(w, s, err, errlen);
        pthread_mutex_unlock(&hc_lock);
        if (rc) { hc_unref(s); return rc; }
        l = &s->circles_network;
    }
    rc = q ? hc_items(l, which ? "coverage" : "circles", q, out, matched, returned, err, errlen) : hc_item(l, fid, out);
    hc_unref(s);
    return rc;
}

static int hc_circles_items(http_worker_t *w, const http_items_query_t *q, buf_t *out, int64_t *matched, int64_t *returned,
                            char *err, size_t errlen) {
    return hc_serve(w, 0, q, 0, out, matched, returned, err, errlen);
}
static int hc_circles_item(http_worker_t *w, int64_t fid, buf_t *out, char *err, size_t errlen) {
    return hc_serve(w, 0, NULL, fid, out, NULL, NULL, err, errlen);
}
static int hc_coverage_items(http_worker_t *w, const http_items_query_t *q, buf_t *out, int64_t *matched, int64_t *returned,
                             char *err, size_t errlen) {
    return hc_serve(w, 1, q, 0, out, matched, returned, err, errlen);
}
static int hc_coverage_item(http_worker_t *w, int64_t fid, buf_t *out, char *err, size_t errlen) {
    return hc_serve(w, 1, NULL, fid, out, NULL, NULL, err, errlen);
}

static void hc_shutdown(void) {
    pthread_mutex_lock(&hc_lock);
    hc_unref(hc_current);
    hc_current = NULL;
    pthread_mutex_unlock(&hc_lock);
}

static const http_collection_t hc_collections[] = {
    {"circles", "Service circles",
     "Service circles dissolved per circle type (15-minute life circle, 10-minute daily/health/culture/fitness, "
     "5-minute, micro fire station), straight-line; with ?mode=network, along the road network (computed on "
     "first request; ids from 1000001). Computed in the data's UTM zone.",
     "MultiPolygon", hc_circles_items, hc_circles_item},
    {"coverage", "Service circle coverage per community",
     "Per community and mode: households, population and special groups, those inside each circle "
     "(<circle>_households, <circle>_share), and whether every required circle reaches all households "
     "(life_circle_complete, missing).",
     "MultiPolygon", hc_coverage_items, hc_coverage_item},
    {NULL, NULL, NULL, NULL, NULL, NULL}};

const http_module_t http_circles_module = {
    .name = "circles",
    .collections = hc_collections,
    .shutdown = hc_shutdown,
};
