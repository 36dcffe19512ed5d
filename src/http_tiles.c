/* http_tiles.c — the tile endpoints: /tiles/{layer}/{z}/{x}/{y}.png, @2x.png and /tiles/{layer}.json
 * (TileJSON 3.0.0), served from cache_serve (memory LRU, tiles/ on disk, render on miss).
 *
 * Cached tiles go out zero-copy: the response holds a reference to the cache entry, so a hit
 * costs a hash lookup and no copy. ETag is the tile's content hash; the framework answers 304 on
 * If-None-Match. Cache-Control: no-cache makes clients revalidate so edits show at once. */
#include "cache_serve.h"
#include "circles.h"
#include "err.h"
#include "geo.h"
#include "http.h"
#include "log.h"
#include "tile.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shared by every worker; set in init before the workers exist, freed at shutdown. */
static cache_serve_t *tiles_cs;

/* Memory budget of the tile cache: $GRIDPLAN_TILE_CACHE_MB (0 renders nearly every request: the
 * bench's cold runs), default 256 MB. An empty --tiles-dir turns the disk tier off. */
static size_t tiles_memory_bytes(void) {
    const char *mb = getenv("GRIDPLAN_TILE_CACHE_MB");
    return mb && *mb ? (size_t)strtoul(mb, NULL, 10) << 20 : (size_t)256 << 20;
}

/* The circles layer: the service circles dissolved per circle id (circles_store_layer), recomputed
 * from the database at start-up and after a change that may move facilities. */
static void tiles_feed_circles(GEOSContextHandle_t g, store_t *st) {
    circles_defs_t *defs = NULL;
    circles_layer_t layer;
    char err[256];
    if (circles_store_layer(g, st, CIRCLES_STRAIGHT, &defs, &layer, err, sizeof err) ||
        cache_serve_set_circles(tiles_cs, layer.n, (const unsigned char *const *)layer.wkb, layer.wkb_len, layer.types, err,
                                sizeof err))
        log_warn("tiles: circles layer: %s", err);
    circles_layer_free(&layer);
    circles_defs_free(defs);
}

static int tiles_init(const http_config_t *cfg, store_t *st, char *err, size_t errlen) {
    int rc = cache_serve_open(cfg->db, render_style_default_path(), cfg->tiles_dir && *cfg->tiles_dir ? cfg->tiles_dir : NULL,
                              tiles_memory_bytes(), &tiles_cs, err, errlen);
    if (rc) return rc;
    GEOSContextHandle_t g = geo_ctx_new();
    tiles_feed_circles(g, st);
    geo_ctx_free(g);
    return 0;
}

static int tiles_worker_init(http_worker_t *w, char *err, size_t errlen) {
    w->slot[HTTP_SLOT_TILES] = render_ctx_new();
    return w->slot[HTTP_SLOT_TILES] ? 0 : err_set(err, errlen, GP_ENOMEM, "out of memory for render surfaces");
}

static void tiles_worker_free(http_worker_t *w) {
    render_ctx_free(w->slot[HTTP_SLOT_TILES]);
    w->slot[HTTP_SLOT_TILES] = NULL;
}

static void tiles_shutdown(void) {
    cache_serve_close(tiles_cs);
    tiles_cs = NULL;
}

static void tiles_data_changed(http_worker_t *w, const http_change_t *change) {
    /* The change log holds the exact before/after geometry: sync reads it. */
    char err[256];
    long expired = 0;
    if (cache_serve_sync(tiles_cs, &expired, err, sizeof err)) log_warn("tiles: %s", err);
    if (!change->table || !strcmp(change->table, "facilities")) tiles_feed_circles(w->geos, w->store);
}

static void tiles_release(void *cls) { cache_tile_release(cls); }

static int tiles_png(http_req_t *req, http_res_t *res) {
    const char *layer_name = http_param(req, "layer"), *file = http_param(req, "file");
    int layer = render_layer_id(layer_name);
    if (layer < 0)
        return http_error(res, 404, "not found", "no tile layer '%s' (communities, grids, buildings, facilities, "
                          "circles, police, default)", layer_name);
    int64_t z, x, y;
    if (http_parse_int(http_param(req, "z"), 0, TILE_MAX_ZOOM, &z))
        return http_error(res, 400, "bad request", "zoom '%s' is not 0-%d", http_param(req, "z"), TILE_MAX_ZOOM);
    int64_t n = (int64_t)1 << z;
    char ybuf[32];
    size_t flen = strlen(file);
    int scale = 1;
    if (flen > 7 && !strcmp(file + flen - 7, "@2x.png")) { scale = 2; flen -= 7; }
    else if (flen > 4 && !strcmp(file + flen - 4, ".png")) flen -= 4;
    else return http_error(res, 404, "not found", "tile '%s' is not {y}.png or {y}@2x.png", file);
    snprintf(ybuf, sizeof ybuf, "%.*s", (int)(flen < sizeof ybuf ? flen : sizeof ybuf - 1), file);
    if (http_parse_int(http_param(req, "x"), 0, n - 1, &x) || http_parse_int(ybuf, 0, n - 1, &y))
        return http_error(res, 400, "bad request", "tile %lld/%s/%s is outside zoom %lld (x and y 0-%lld)",
                          (long long)z, http_param(req, "x"), ybuf, (long long)z, (long long)(n - 1));
    cache_tile_t *tile;
    int hit;
    char err[256];
    int rc = cache_serve_tile(tiles_cs, req->worker->slot[HTTP_SLOT_TILES], layer, (int)z, (uint32_t)x, (uint32_t)y,
                              scale, &tile, &hit, err, sizeof err);
    if (rc) return http_error(res, http_status_for(rc), NULL, "%s", err);
    res->status = 200;
    res->content_type = "image/png";
    res->no_gzip = 1;
    snprintf(res->etag, sizeof res->etag, "%.*s", (int)strlen(tile->etag) - 2, tile->etag + 1);
    http_res_header(res, "Cache-Control", "no-cache");
    http_res_header(res, "X-Tile-Cache", hit ? "hit" : "miss");
    http_res_ref(res, tile->data, tile->len, tiles_release, tile);
    return 0;
}

static int tiles_json(http_req_t *req, http_res_t *res) {
    const char *file = http_param(req, "file");
    size_t len = strlen(file);
    char name[64];
    if (len < 6 || len - 5 >= sizeof name || strcmp(file + len - 5, ".json"))
        return http_error(res, 404, "not found", "no tile resource '%s' (want /tiles/{layer}.json)", file);
    snprintf(name, sizeof name, "%.*s", (int)(len - 5), file);
    if (render_layer_id(name) < 0) return http_error(res, 404, "not found", "no tile layer '%s'", name);
    render_scene_t *scene = cache_serve_scene(tiles_cs);
    const render_layer_t *l = scene->layers[RENDER_SRC_COMMUNITIES];
    double w = -180, s = -85.0511, e = 180, n = 85.0511;
    if (l->n) {
        geo_merc_to_lonlat(l->minx, l->miny, &w, &s);
        geo_merc_to_lonlat(l->maxx, l->maxy, &e, &n);
    }
    render_scene_unref(scene);
    http_res_json(res, 200);
    buf_t *b = &res->body;
    buf_puts(b, "{\"tilejson\":\"3.0.0\",\"name\":");
    buf_json_string(b, name);
    buf_puts(b, ",\"scheme\":\"xyz\",\"tiles\":[");
    char url[512];
    snprintf(url, sizeof url, "%s/tiles/%s/{z}/{x}/{y}.png", req->base_url ? req->base_url : "", name);
    buf_json_string(b, url);
    buf_printf(b, "],\"minzoom\":0,\"maxzoom\":%d,\"bounds\":[", TILE_MAX_ZOOM);
    buf_double(b, w, 6); buf_puts(b, ",");
    buf_double(b, s, 6); buf_puts(b, ",");
    buf_double(b, e, 6); buf_puts(b, ",");
    buf_double(b, n, 6);
    buf_puts(b, "],\"center\":[");
    buf_double(b, (w + e) / 2, 6); buf_puts(b, ",");
    buf_double(b, (s + n) / 2, 6);
    buf_puts(b, ",13],\"attribution\":\"gridplan\"}\n");
    http_res_header(res, "Cache-Control", "no-cache");
    return 0;
}

static const http_route_t tiles_routes[] = {
    {"GET", "/tiles/{layer}/{z}/{x}/{file}", tiles_png, AUTH_NONE},
    {"GET", "/tiles/{file}", tiles_json, AUTH_NONE},
    {NULL, NULL, NULL, 0}};

const http_module_t http_tiles_module = {
    .name = "tiles",
    .routes = tiles_routes,
    .init = tiles_init,
    .worker_init = tiles_worker_init,
    .worker_free = tiles_worker_free,
    .shutdown = tiles_shutdown,
    .data_changed = tiles_data_changed,
};
