/* cache_serve.c — scene + cache kept in step with the change log; see cache_serve.h. */
#include "cache_serve.h"
#include "circles.h"
#include "err.h"
#include "geo.h"
#include "log.h"
#include "render_label.h"
#include "store.h"
#include "tile.h"
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

struct cache_serve {
    pthread_mutex_t scene_lock;   /* guards the scene pointer only */
    pthread_mutex_t sync_lock;    /* one sync at a time; owns st */
    render_scene_t *scene;
    cache_t *cache;
    store_t *st;
    double next_poll;             /* log_now() seconds; read racily on purpose (a hint) */
    char version_file[1100];      /* <disk tier>/VERSION: what the tiles on disk reflect ("" = none) */
    int circles_loaded;           /* circles are computed on the first circles tile (atomic flag) */
};

static int circles_refresh_locked(cache_serve_t *cs, char *err, size_t errlen);

/* "data_version=<meta data_version> change=<last change id>\n" of a scene. */
static const char *version_line(const render_scene_t *s, char *out, size_t n) {
    snprintf(out, n, "data_version=%s change=%lld\n", s->data_version, (long long)s->last_change_id);
    return out;
}

/* Records which data the disk tier now reflects (after its stale tiles were removed), creating the
 * directory if needed. A crash before this leaves the old line: the next start clears the tier. */
static void version_mark(cache_serve_t *cs, const render_scene_t *s) {
    if (!cs->version_file[0]) return;
    char line[128], tmp[1200];
    snprintf(tmp, sizeof tmp, "%s", cs->version_file);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') { *p = 0; mkdir(tmp, 0755); *p = '/'; }
    snprintf(tmp, sizeof tmp, "%s.tmp", cs->version_file);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    fputs(version_line(s, line, sizeof line), f);
    if (fclose(f) == 0) rename(tmp, cs->version_file);
}

/* Layers drawn from each source table: which tiles an edit of that table can change. */
static const unsigned src_layers[RENDER_NSRC] = {
    [RENDER_SRC_COMMUNITIES] = 1u << RENDER_LAYER_COMMUNITIES | 1u << RENDER_LAYER_POLICE | 1u << RENDER_LAYER_DEFAULT,
    [RENDER_SRC_GRIDS] = 1u << RENDER_LAYER_GRIDS | 1u << RENDER_LAYER_DEFAULT,
    [RENDER_SRC_BUILDINGS] = 1u << RENDER_LAYER_BUILDINGS | 1u << RENDER_LAYER_DEFAULT,
    [RENDER_SRC_FACILITIES] = 1u << RENDER_LAYER_FACILITIES | 1u << RENDER_LAYER_DEFAULT,
    [RENDER_SRC_CIRCLES] = 1u << RENDER_LAYER_CIRCLES,
};

static const char *const layer_dirs[RENDER_NLAYERS] = {"communities", "grids",  "buildings", "facilities",
                                                        "circles",     "police", "default"};

int cache_serve_open(const char *db_path, const char *style_path, const char *tiles_root, size_t mem_bytes,
                     cache_serve_t **out, char *err, size_t errlen) {
    render_style_t style;
    int rc = render_style_load(style_path, &style, err, errlen);
    if (rc) return rc;
    cache_serve_t *cs = calloc(1, sizeof *cs);
    if (!cs) return err_set(err, errlen, GP_ENOMEM, "out of memory");
    pthread_mutex_init(&cs->scene_lock, NULL);
    pthread_mutex_init(&cs->sync_lock, NULL);
    if ((rc = store_open(db_path, STORE_READONLY, &cs->st, err, errlen))) goto fail;
    if ((rc = render_scene_load(cs->st, &style, &cs->scene, err, errlen))) goto fail;
    char dir[1024];
    if (tiles_root) {
        const char *base = strrchr(db_path, '/');
        base = base ? base + 1 : db_path;
        size_t n = strcspn(base, ".");
        snprintf(dir, sizeof dir, "%s/%.*s", tiles_root, (int)n, base);
    }
    cs->cache = cache_new(tiles_root ? dir : NULL, mem_bytes, layer_dirs, RENDER_NLAYERS);
    if (!cs->cache) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto fail; }
    /* tiles on disk may predate edits or an import made while no server ran */
    if (tiles_root) {
        snprintf(cs->version_file, sizeof cs->version_file, "%s/VERSION", dir);
        char have[128] = "";
        FILE *f = fopen(cs->version_file, "r");
        if (f) { if (!fgets(have, sizeof have, f)) have[0] = '\0'; fclose(f); }
        char prefix[128];
        snprintf(prefix, sizeof prefix, "data_version=%s change=", cs->scene->data_version);
        long long seen = -1;
        if (!strncmp(have, prefix, strlen(prefix))) seen = strtoll(have + strlen(prefix), NULL, 10);
        if (seen >= 0 && seen < cs->scene->last_change_id) {
            /* edits made while no server ran: replay them from the change log, expiring exactly
             * their tiles (the scene reloads the changed tables once more; cheap) */
            cs->scene->last_change_id = seen;
            if ((rc = cache_serve_sync(cs, NULL, err, errlen))) goto fail;
        } else if (seen != cs->scene->last_change_id) {
            long n = cache_clear(cs->cache);
            if (n) log_info("tiles: %s: data replaced since the tiles were made: %ld cached tiles removed", dir, n);
            version_mark(cs, cs->scene);
        }
    }
    *out = cs;
    return 0;
fail:
    cache_serve_close(cs);
    return rc;
}

void cache_serve_close(cache_serve_t *cs) {
    if (!cs) return;
    render_scene_unref(cs->scene);
    cache_free(cs->cache);
    store_close(cs->st);
    pthread_mutex_destroy(&cs->scene_lock);
    pthread_mutex_destroy(&cs->sync_lock);
    free(cs);
}

render_scene_t *cache_serve_scene(cache_serve_t *cs) {
    pthread_mutex_lock(&cs->scene_lock);
    render_scene_t *s = render_scene_ref(cs->scene);
    pthread_mutex_unlock(&cs->scene_lock);
    return s;
}

cache_t *cache_serve_cache(cache_serve_t *cs) { return cs->cache; }

static void swap_scene(cache_serve_t *cs, render_scene_t *next) {
    pthread_mutex_lock(&cs->scene_lock);
    render_scene_t *old = cs->scene;
    cs->scene = next;
    pthread_mutex_unlock(&cs->scene_lock);
    render_scene_unref(old);
}

typedef struct area_list {
    cache_area_t *a;
    size_t n, cap;
    unsigned layer_mask;
    int failed;
} area_list_t;

static void area_add(area_list_t *l, cache_area_t area) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        cache_area_t *p = realloc(l->a, nc * sizeof *p);
        if (!p) { l->failed = 1; return; }
        l->a = p;
        l->cap = nc;
    }
    l->a[l->n++] = area;
}

/* A label box in world pixels of zoom z becomes a Mercator area expiring tiles of that zoom only. */
static void label_area(void *user, int z, double minx, double miny, double maxx, double maxy) {
    area_list_t *l = user;
    double res = tile_resolution(z);
    cache_area_t a = {minx * res - GEO_MERC_HALF, GEO_MERC_HALF - maxy * res, maxx * res - GEO_MERC_HALF,
                      GEO_MERC_HALF - miny * res, 0, z, z, l->layer_mask};
    area_add(l, a);
}

static void lonlat_area(area_list_t *l, sqlite3_stmt *s, int col, unsigned mask) {
    if (sqlite3_column_type(s, col) == SQLITE_NULL) return;
    cache_area_t a = {0, 0, 0, 0, RENDER_MARGIN_PX, 0, TILE_MAX_ZOOM, mask};
    geo_lonlat_to_merc(sqlite3_column_double(s, col), sqlite3_column_double(s, col + 1), &a.minx, &a.miny);
    geo_lonlat_to_merc(sqlite3_column_double(s, col + 2), sqlite3_column_double(s, col + 3), &a.maxx, &a.maxy);
    area_add(l, a);
}

static int sync_locked(cache_serve_t *cs, long *expired, char *err, size_t errlen) {
    store_t *st = cs->st;
    render_scene_t *old = cs->scene;   /* only sync swaps it, and we hold sync_lock */
    area_list_t areas = {0};
    sqlite3_stmt *s = NULL;
    render_scene_t *next = NULL;
    int rc = 0;
    long removed = 0;
    if ((rc = store_exec(st, "BEGIN", err, errlen))) return rc;   /* one snapshot for every read */
    char version[64] = "";
    store_meta_get(st, "data_version", version, sizeof version);
    if (strcmp(version, old->data_version)) {
        rc = render_scene_load(st, &old->style, &next, err, errlen);
        store_exec(st, "COMMIT", NULL, 0);
        if (rc) return rc;
        char was[64];
        snprintf(was, sizeof was, "%s", old->data_version[0] ? old->data_version : "(none)");
        swap_scene(cs, next);   /* frees old */
        if (cs->circles_loaded && circles_refresh_locked(cs, err, errlen)) log_warn("tiles: circles: %s", err);
        removed = cache_clear(cs->cache);
        version_mark(cs, cs->scene);
        log_info("tiles: data_version %s -> %s: scene reloaded, %ld cached tiles removed", was, version, removed);
        if (expired) *expired = removed;
        return 0;
    }
    /* An update that kept its geometry logs no blobs (geom_changed = 0), yet it changes how the
     * feature draws (a community's households pick its class colour), so its area is the row's
     * current geometry. Where that geometry changed later, the later change's logged blobs cover
     * the old place; a later delete logs the geometry it removed. */
    buf_t sql = {0};
    buf_puts(&sql, "SELECT tbl, MbrMinX(g1), MbrMinY(g1), MbrMaxX(g1), MbrMaxY(g1), MbrMinX(g2), MbrMinY(g2), "
                   "MbrMaxX(g2), MbrMaxY(g2), id FROM (SELECT tbl, id, after_geom AS g2, "
                   "CASE WHEN geom_changed THEN before_geom ELSE CASE tbl");
    for (int i = 0; store_tables[i]; i++)
        buf_printf(&sql, " WHEN '%s' THEN (SELECT geom FROM \"%s\" WHERE fid = c.fid)", store_tables[i], store_tables[i]);
    buf_puts(&sql, " END END AS g1 FROM changes c WHERE id > ?) ORDER BY id");
    int prepared = sql.data && sqlite3_prepare_v2(st->db, sql.data, -1, &s, NULL) == SQLITE_OK;
    buf_free(&sql);
    if (!prepared) {
        rc = err_set(err, errlen, GP_EDB, "%s: reading changes: %s", st->path, sqlite3_errmsg(st->db));
        goto end;
    }
    sqlite3_bind_int64(s, 1, old->last_change_id);
    unsigned mask = 0;
    int64_t last = old->last_change_id;
    while (sqlite3_step(s) == SQLITE_ROW) {
        int src = render_src_for_table((const char *)sqlite3_column_text(s, 0));
        last = sqlite3_column_int64(s, 9);
        if (src < 0) continue;
        mask |= 1u << src;
        lonlat_area(&areas, s, 1, src_layers[src]);
        lonlat_area(&areas, s, 5, src_layers[src]);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (last == old->last_change_id) goto end;
    if ((rc = render_scene_reload(old, st, mask, &next, err, errlen))) goto end;
    for (int src = 0; src < RENDER_NSRC; src++) {
        if (!(mask & (1u << src)) || (src != RENDER_SRC_COMMUNITIES && src != RENDER_SRC_GRIDS)) continue;
        areas.layer_mask = src == RENDER_SRC_GRIDS ? 1u << RENDER_LAYER_GRIDS : src_layers[src];
        for (int z = 0; z <= TILE_MAX_ZOOM; z++) {
            render_label_diff(old->layers[src], next->layers[src], z, label_area, &areas);
            render_label_diff(next->layers[src], old->layers[src], z, label_area, &areas);
        }
    }
    if (areas.failed) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory expiring tiles"); goto end; }
    swap_scene(cs, next);
    next = NULL;
    removed = cache_expire(cs->cache, areas.a, areas.n);
    if (cs->circles_loaded && (mask & (1u << RENDER_SRC_FACILITIES)) && circles_refresh_locked(cs, err, errlen))
        log_warn("tiles: circles: %s", err);
    version_mark(cs, cs->scene);
    log_debug("tiles: changes up to %lld: %zu areas, %ld cached tiles expired", (long long)last, areas.n, removed);
end:
    sqlite3_finalize(s);
    store_exec(st, "COMMIT", NULL, 0);
    render_scene_unref(next);
    free(areas.a);
    if (expired) *expired = removed;
    return rc;
}

int cache_serve_sync(cache_serve_t *cs, long *expired, char *err, size_t errlen) {
    pthread_mutex_lock(&cs->sync_lock);
    int rc = sync_locked(cs, expired, err, errlen);
    cs->next_poll = log_now() + CACHE_SERVE_POLL_MS / 1000.0;
    pthread_mutex_unlock(&cs->sync_lock);
    return rc;
}

static int set_circles_locked(cache_serve_t *cs, size_t n, const unsigned char *const *wkb, const size_t *wkb_len,
                              const char *const *types, char *err, size_t errlen) {
    render_scene_t *old = cs->scene, *next = NULL;
    int rc = render_scene_with_circles(old, n, wkb, wkb_len, types, &next, err, errlen);
    if (rc) return rc;
    const render_layer_t *ls[2] = {old->layers[RENDER_SRC_CIRCLES], next->layers[RENDER_SRC_CIRCLES]};
    cache_area_t areas[3];
    size_t na = 0;
    for (int i = 0; i < 2; i++)
        if (ls[i] && ls[i]->n)
            areas[na++] = (cache_area_t){ls[i]->minx, ls[i]->miny, ls[i]->maxx, ls[i]->maxy, RENDER_MARGIN_PX, 0,
                                         TILE_MAX_ZOOM, 1u << RENDER_LAYER_CIRCLES};
    /* the first computation in this process: circles tiles on disk may come from older data */
    if (!ls[0] || !ls[0]->n)
        areas[na++] = (cache_area_t){-GEO_MERC_HALF, -GEO_MERC_HALF, GEO_MERC_HALF, GEO_MERC_HALF, 0, 0, TILE_MAX_ZOOM,
                                     1u << RENDER_LAYER_CIRCLES};
    swap_scene(cs, next);
    cache_expire(cs->cache, areas, na);
    return 0;
}

/* The circles layer from the database: straight-line service circles dissolved per circle type of
 * the database's profile (circles module), typed by circle id. A database without facilities gets
 * an empty layer. Called at open and when facilities change or data is re-imported. */
static int circles_refresh_locked(cache_serve_t *cs, char *err, size_t errlen) {
    GEOSContextHandle_t g = geo_ctx_new();
    circles_data_t *d = NULL;
    circles_defs_t *defs = NULL;
    circles_layer_t layer = {0};
    int rc = g ? circles_defs_for_store(cs->st, &defs, NULL, 0, err, errlen) : GP_ENOMEM;
    if (rc == 0) {
        rc = circles_data_load(g, cs->st, &d, err, errlen);
        if (rc == GP_ENOTFOUND) rc = 0;   /* nothing to draw: an empty layer */
        else if (rc == 0) rc = circles_layer_wkb(g, d, defs, CIRCLES_STRAIGHT, &layer, err, errlen);
    }
    if (rc == 0)
        rc = set_circles_locked(cs, layer.n, (const unsigned char *const *)layer.wkb, layer.wkb_len, layer.types, err,
                                errlen);
    circles_layer_free(&layer);
    circles_defs_free(defs);
    circles_data_free(g, d);
    geo_ctx_free(g);
    return rc;
}

int cache_serve_tile(cache_serve_t *cs, render_ctx_t *ctx, int layer, int z, uint32_t x, uint32_t y, int scale,
                     cache_tile_t **out, int *hit, char *err, size_t errlen) {
    if (layer < 0 || layer >= RENDER_NLAYERS) return err_set(err, errlen, GP_EINVAL, "unknown tile layer");
    if (!tile_valid(z, x, y)) return err_set(err, errlen, GP_EINVAL, "tile %d/%u/%u is outside the world", z, x, y);
    if (scale != 1 && scale != 2) return err_set(err, errlen, GP_EINVAL, "tile scale %d is not 1 or 2", scale);
    double now = log_now();
    if (now >= cs->next_poll && pthread_mutex_trylock(&cs->sync_lock) == 0) {
        char serr[256];
        if (sync_locked(cs, NULL, serr, sizeof serr)) log_warn("tiles: %s", serr);
        cs->next_poll = now + CACHE_SERVE_POLL_MS / 1000.0;
        pthread_mutex_unlock(&cs->sync_lock);
    }
    if (layer == RENDER_LAYER_CIRCLES && !__atomic_load_n(&cs->circles_loaded, __ATOMIC_ACQUIRE)) {
        /* computing circles takes a second or two on a city: only servers that show them pay */
        pthread_mutex_lock(&cs->sync_lock);
        int rc = 0;
        if (!cs->circles_loaded && (rc = circles_refresh_locked(cs, err, errlen)) == 0)
            __atomic_store_n(&cs->circles_loaded, 1, __ATOMIC_RELEASE);
        pthread_mutex_unlock(&cs->sync_lock);
        if (rc) return rc;
    }
    cache_key_t key = {layer, z, scale, x, y};
    if (cache_get(cs->cache, &key, out) == 0) {
        *hit = 1;
        return 0;
    }
    *hit = 0;
    uint64_t gen = cache_generation(cs->cache);
    render_scene_t *scene = cache_serve_scene(cs);
    buf_t png = {0};
    int empty;
    int rc = render_tile(ctx, scene, layer, z, x, y, scale, &png, &empty, err, errlen);
    render_scene_unref(scene);
    if (rc == 0 && cache_put(cs->cache, &key, png.data, png.len, gen, out) != 0)
        rc = err_set(err, errlen, GP_ENOMEM, "out of memory caching a tile");
    buf_free(&png);
    return rc;
}
