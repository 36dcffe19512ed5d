/* test_cache.c — memory LRU + disk tier, stale puts, and expiry after edits through the change log:
 * tiles under the changed area re-render with the new boundary, all others come from the cache
 * unchanged; parallel requests during edits never leave a stale tile behind. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "cache_serve.h"
#include "err.h"
#include "render_png.h"
#include "render_fixture.h"

static char db[64], dir[64];
static const char *const names[] = {"a", "b"};

static int rm_visit(const char *p, const struct stat *sb, int flag, struct FTW *f) {
    (void)sb; (void)f;
    return flag == FTW_DP ? rmdir(p) : unlink(p);
}
static void setup(void) {
    snprintf(db, sizeof db, "/tmp/gp_test_cache_%d.sqlite", getpid());
    snprintf(dir, sizeof dir, "/tmp/gp_test_cache_tiles_%d", getpid());
    nftw(dir, rm_visit, 8, FTW_DEPTH | FTW_PHYS);
}
static void teardown(void) {
    nftw(dir, rm_visit, 8, FTW_DEPTH | FTW_PHYS);
    fx_remove(db);
}
TestSuite(cache, .init = setup, .fini = teardown);

Test(cache, memory_disk_etag_eviction_and_stale_puts) {
    cache_t *c = cache_new(dir, 16 * 1000, names, 2);   /* 1000 bytes per shard */
    cr_assert(c);
    cache_key_t k = {1, 12, 1, 5, 7};
    cache_tile_t *t, *u;
    cr_assert_eq(cache_get(c, &k, &t), GP_ENOTFOUND);
    cr_assert_eq(cache_put(c, &k, "png-bytes", 9, cache_generation(c), &t), 0);
    cr_assert_eq(cache_get(c, &k, &u), 0);
    cr_assert(u->len == 9 && !memcmp(u->data, "png-bytes", 9));
    cr_assert_str_eq(u->etag, t->etag);
    cr_assert_eq(strlen(t->etag), 18);
    cache_tile_release(t);
    cache_tile_release(u);
    char path[256];
    struct stat sb;
    cr_assert_eq(stat(cache_tile_path(c, &k, path, sizeof path), &sb), 0, "%s written", path);
    cr_assert(strstr(path, "/b/12/5/7.png"), "%s", path);
    /* a new cache on the same directory serves it from disk */
    cache_t *c2 = cache_new(dir, 1 << 20, names, 2);
    cr_assert_eq(cache_get(c2, &k, &u), 0);
    cr_assert(u->len == 9);
    cache_tile_release(u);
    cache_stats_t st;
    cache_get_stats(c2, &st);
    cr_assert_eq(st.hits_disk, 1);
    cache_free(c2);
    /* a put that raced an expiry is served but not stored */
    cache_key_t k2 = {0, 12, 2, 5, 7};
    uint64_t gen = cache_generation(c);
    cache_area_t everything = {-GEO_MERC_HALF, -GEO_MERC_HALF, GEO_MERC_HALF, GEO_MERC_HALF, 0, 0, 20, 0};
    cr_assert_geq(cache_expire(c, &everything, 1), 2, "memory entry and file of k removed");
    cr_assert_eq(cache_put(c, &k2, "x", 1, gen, &t), 0);
    cache_tile_release(t);
    cr_assert_eq(cache_get(c, &k2, &t), GP_ENOTFOUND);
    cr_assert_eq(cache_get(c, &k, &t), GP_ENOTFOUND);
    /* LRU: 16 shards of 1000 bytes hold at most ~16 tiles of 600 bytes */
    char big[600];
    memset(big, 7, sizeof big);
    for (uint32_t i = 0; i < 200; i++) {
        cache_key_t kk = {0, 15, 1, i, i};
        cr_assert_eq(cache_put(c, &kk, big, sizeof big, cache_generation(c), &t), 0);
        cache_tile_release(t);
    }
    cache_get_stats(c, &st);
    cr_assert_leq(st.bytes, 16 * 1000);
    cr_assert_geq(st.entries, 8);
    cache_free(c);
}

/* ---- expiry through the change log ---- */

static store_t *wst;

/* Moves/resizes community fid in one changeset through the store's change log. */
static void edit_community(int changeset, int fid, double cx, double cy, double half, long households) {
    char wkt[512], sql[1024], err[256];
    (void)changeset;
    fx_square_wkt(cx, cy, half, wkt, sizeof wkt);
    snprintf(sql, sizeof sql,
             "UPDATE communities SET households = %ld, geom = CastToMultiPolygon(GeomFromText('%s', 4326)) "
             "WHERE fid = %d",
             households, wkt, fid);
    int64_t id;
    cr_assert_eq(store_begin(wst, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_changeset_begin(wst, "test", "edit", NULL, &id, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_exec(wst, sql, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_changeset_end(wst, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_commit(wst, err, sizeof err), 0, "%s", err);
}

typedef struct seen {
    int layer, z;
    uint32_t x, y;
    size_t len;
    unsigned char *png;
} seen_t;

Test(cache, edit_expires_exactly_the_tiles_under_the_changed_area) {
    cr_assert_eq(fx_build(db, &wst), 0);
    char err[512];
    cache_serve_t *cs;
    cr_assert_eq(cache_serve_open(db, "geodata/styles/default.json", dir, 64 << 20, &cs, err, sizeof err), 0, "%s", err);
    render_ctx_t *ctx = render_ctx_new();
    /* every communities and grids tile over the fixture at z11-16 */
    double minx, miny, maxx, maxy, t;
    tile_bounds(FX_Z, FX_TX - 1, FX_TY + 8, &minx, &miny, &t, &t);
    tile_bounds(FX_Z, FX_TX + 8, FX_TY - 1, &t, &t, &maxx, &maxy);
    seen_t *seen = calloc(20000, sizeof *seen);
    size_t n = 0;
    int layers[2] = {RENDER_LAYER_COMMUNITIES, RENDER_LAYER_GRIDS};
    for (int li = 0; li < 2; li++)
        for (int z = 11; z <= 16; z++) {
            uint32_t x0, y0, x1, y1;
            tile_range_merc(z, minx, miny, maxx, maxy, 0, &x0, &y0, &x1, &y1);
            for (uint32_t y = y0; y <= y1; y++)
                for (uint32_t x = x0; x <= x1; x++) {
                    cache_tile_t *tile;
                    int hit;
                    cr_assert_eq(cache_serve_tile(cs, ctx, layers[li], z, x, y, 1, &tile, &hit, err, sizeof err), 0);
                    cr_assert_eq(hit, 0);
                    seen[n] = (seen_t){layers[li], z, x, y, tile->len, malloc(tile->len)};
                    memcpy(seen[n].png, tile->data, tile->len);
                    n++;
                    cache_tile_release(tile);
                }
        }
    cr_assert_gt(n, 500);
    /* grow D (fid 4) from half-side 1000 m to 1400 m around the same centre */
    double cx, cy;
    fx_tile_centre(FX_TX + 6, FX_TY + 6, &cx, &cy);
    edit_community(1, 4, cx, cy, 1400, 5200);
    long expired = 0;
    cr_assert_eq(cache_serve_sync(cs, &expired, err, sizeof err), 0, "%s", err);
    cr_assert_gt(expired, 0);
    long rerendered = 0, served = 0, changed = 0;
    for (size_t i = 0; i < n; i++) {
        seen_t *s = &seen[i];
        double res = tile_resolution(s->z), a, b, c, d;
        tile_bounds(s->z, s->x, s->y, &a, &b, &c, &d);
        /* strictly under the new or old square, or far (> 100 px) from it */
        int under = c > cx - 1400 && a < cx + 1400 && d > cy - 1400 && b < cy + 1400;
        double far = 1400 + 100 * res;
        int away = c < cx - far || a > cx + far || d < cy - far || b > cy + far;
        cache_tile_t *tile;
        int hit;
        char path[512];
        struct stat sb;
        cache_key_t key = {s->layer, s->z, 1, s->x, s->y};
        int on_disk = stat(cache_tile_path(cache_serve_cache(cs), &key, path, sizeof path), &sb) == 0;
        cr_assert_eq(cache_serve_tile(cs, ctx, s->layer, s->z, s->x, s->y, 1, &tile, &hit, err, sizeof err), 0);
        if (s->layer == RENDER_LAYER_GRIDS || away) {
            cr_assert_eq(hit, 1, "untouched %s tile %d/%u/%u served from cache", render_layer_name(s->layer), s->z,
                         s->x, s->y);
            cr_assert(on_disk, "untouched tile %d/%u/%u still on disk", s->z, s->x, s->y);
            cr_assert(tile->len == s->len && !memcmp(tile->data, s->png, s->len));
            served++;
        } else if (under) {
            cr_assert_eq(hit, 0, "tile %d/%u/%u under the edit re-rendered", s->z, s->x, s->y);
            cr_assert(!on_disk, "expired tile %d/%u/%u removed from disk", s->z, s->x, s->y);
            rerendered++;
            changed += tile->len != s->len || memcmp(tile->data, s->png, s->len);
        }
        cache_tile_release(tile);
    }
    cr_assert_gt(rerendered, 10);
    cr_assert_gt(served, 100);
    cr_assert_gt(changed, 5);
    /* the new boundary shows: 1200 m west of D's centre was outside, now inside (split class fill) */
    uint32_t tx, ty, t2;
    tile_range_merc(16, cx - 1200, cy + 300, cx - 1200, cy + 300, 0, &tx, &ty, &t2, &t2);
    cache_tile_t *tile;
    int hit;
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_COMMUNITIES, 16, tx, ty, 1, &tile, &hit, err, sizeof err), 0);
    unsigned char *rgba;
    int w, h;
    cr_assert_eq(render_png_decode(tile->data, tile->len, &rgba, &w, &h), 0);
    double a, b, c, d;
    tile_bounds(16, tx, ty, &a, &b, &c, &d);
    int px = (int)((cx - 1200 - a) / tile_resolution(16)), py = (int)((d - cy - 300) / tile_resolution(16));
    cr_assert(px >= 0 && px < 256 && py >= 0 && py < 256);
    render_scene_t *scene = cache_serve_scene(cs);
    const render_rgba_t *split = &scene->style.class_fill[RENDER_CLASS_SPLIT];
    cr_assert_eq(rgba[(py * 256 + px) * 4 + 3], (int)(split->a * 255 + .5), "new interior at %d,%d filled", px, py);
    render_scene_unref(scene);
    free(rgba);
    cache_tile_release(tile);
    for (size_t i = 0; i < n; i++) free(seen[i].png);
    free(seen);
    render_ctx_free(ctx);
    cache_serve_close(cs);
    store_close(wst);
}

Test(cache, bulk_import_clears_everything) {
    cr_assert_eq(fx_build(db, &wst), 0);
    char err[512];
    cache_serve_t *cs;
    cr_assert_eq(cache_serve_open(db, "geodata/styles/default.json", dir, 8 << 20, &cs, err, sizeof err), 0, "%s", err);
    render_ctx_t *ctx = render_ctx_new();
    cache_tile_t *tile;
    int hit;
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_DEFAULT, 12, FX_TX >> 3, FX_TY >> 3, 1, &tile, &hit, err, sizeof err), 0);
    cache_tile_release(tile);
    cr_assert_eq(store_meta_set(wst, "data_version", "2", err, sizeof err), 0);
    long expired = 0;
    cr_assert_eq(cache_serve_sync(cs, &expired, err, sizeof err), 0, "%s", err);
    cr_assert_eq(expired, 2, "memory entry and file");
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_DEFAULT, 12, FX_TX >> 3, FX_TY >> 3, 1, &tile, &hit, err, sizeof err), 0);
    cr_assert_eq(hit, 0);
    cache_tile_release(tile);
    render_ctx_free(ctx);
    cache_serve_close(cs);
    store_close(wst);
}

/* ---- parallel requests during edits ---- */

/* The tile at zoom z covering the top-left corner of fixture tile v (a column or row at FX_Z). */
static uint32_t fx_at(uint32_t v, int z) { return z <= FX_Z ? v >> (FX_Z - z) : v << (z - FX_Z); }

typedef struct worker {
    cache_serve_t *cs;
    volatile int *stop;
    long served, failures;
    unsigned seed;
} worker_t;

static void *worker_run(void *arg) {
    worker_t *w = arg;
    render_ctx_t *ctx = render_ctx_new();
    char err[256];
    while (!*w->stop) {
        int z = 13 + (int)(rand_r(&w->seed) % 4);
        uint32_t span = 1u << (z - 13);
        uint32_t x = fx_at(FX_TX, z) + rand_r(&w->seed) % (2 * span);
        uint32_t y = fx_at(FX_TY, z) + rand_r(&w->seed) % (2 * span);
        cache_tile_t *tile;
        int hit;
        if (cache_serve_tile(w->cs, ctx, RENDER_LAYER_DEFAULT, z, x, y, rand_r(&w->seed) % 2 + 1, &tile, &hit, err,
                             sizeof err) != 0 || tile->len < 60) w->failures++;
        else { w->served++; cache_tile_release(tile); }
    }
    render_ctx_free(ctx);
    return NULL;
}

/* A property-only update logs no geometry (changes.geom_changed = 0), yet households pick the class
 * colour: the tiles under the community's current geometry must expire all the same. */
Test(cache, property_only_edit_expires_the_tiles_under_the_feature) {
    cr_assert_eq(fx_build(db, &wst), 0);
    char err[512];
    cache_serve_t *cs;
    cr_assert_eq(cache_serve_open(db, "geodata/styles/default.json", dir, 64 << 20, &cs, err, sizeof err), 0, "%s", err);
    render_ctx_t *ctx = render_ctx_new();
    double cx, cy;
    fx_tile_centre(FX_TX + 6, FX_TY + 6, &cx, &cy);   /* community D (fid 4) */
    uint32_t tx, ty, t2;
    tile_range_merc(16, cx, cy, cx, cy, 0, &tx, &ty, &t2, &t2);
    cache_tile_t *tile;
    int hit;
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_COMMUNITIES, 16, tx, ty, 1, &tile, &hit, err, sizeof err), 0);
    size_t old_len = tile->len;
    unsigned char *old_png = malloc(old_len);
    memcpy(old_png, tile->data, old_len);
    cache_tile_release(tile);
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_COMMUNITIES, 16, tx, ty, 1, &tile, &hit, err, sizeof err), 0);
    cr_assert_eq(hit, 1, "cached before the edit");
    cache_tile_release(tile);

    int64_t id;
    cr_assert_eq(store_begin(wst, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_changeset_begin(wst, "test", "edit", NULL, &id, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_exec(wst, "UPDATE communities SET households = 2000 WHERE fid = 4", err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_changeset_end(wst, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_commit(wst, err, sizeof err), 0, "%s", err);
    sqlite3_stmt *q;
    cr_assert_eq(sqlite3_prepare_v2(wst->db, "SELECT geom_changed, after_geom IS NULL FROM changes ORDER BY id DESC LIMIT 1",
                                    -1, &q, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(q), SQLITE_ROW);
    cr_assert(sqlite3_column_int(q, 0) == 0 && sqlite3_column_int(q, 1), "no geometry logged");
    sqlite3_finalize(q);

    long expired = 0;
    cr_assert_eq(cache_serve_sync(cs, &expired, err, sizeof err), 0, "%s", err);
    cr_assert_gt(expired, 0);
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_COMMUNITIES, 16, tx, ty, 1, &tile, &hit, err, sizeof err), 0);
    cr_assert_eq(hit, 0, "the tile under D re-rendered");
    cr_assert(tile->len != old_len || memcmp(tile->data, old_png, old_len), "D (split at 5000) is now drawn within");
    cache_tile_release(tile);
    free(old_png);
    render_ctx_free(ctx);
    cache_serve_close(cs);
    store_close(wst);
}

Test(cache, parallel_requests_during_edits_leave_no_stale_tile) {
    cr_assert_eq(fx_build(db, &wst), 0);
    char err[512];
    cache_serve_t *cs;
    cr_assert_eq(cache_serve_open(db, "geodata/styles/default.json", dir, 32 << 20, &cs, err, sizeof err), 0, "%s", err);
    volatile int stop = 0;
    worker_t w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_t){cs, &stop, 0, 0, (unsigned)i * 7919u + 1};
        pthread_create(&th[i], NULL, worker_run, &w[i]);
    }
    double cx, cy;
    fx_tile_centre(FX_TX + 6, FX_TY + 6, &cx, &cy);
    for (int e = 0; e < 6; e++) {
        usleep(30000);
        edit_community(10 + e, 4, cx + 100 * e, cy, 900 + 80 * e, 1000 + 900 * e);
        if (e % 2 == 0) cr_assert_eq(cache_serve_sync(cs, NULL, err, sizeof err), 0, "%s", err);
    }
    usleep(80000);   /* the odd edits are found by the requests' own polling */
    stop = 1;
    long served = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(w[i].failures, 0);
        served += w[i].served;
    }
    cr_assert_gt(served, 20);
    cr_assert_eq(cache_serve_sync(cs, NULL, err, sizeof err), 0, "%s", err);
    /* every cached tile equals a fresh render of the final data */
    render_scene_t *scene = cache_serve_scene(cs);
    cr_assert_eq(scene->layers[RENDER_SRC_COMMUNITIES]->features[3].households, 1000 + 900 * 5);
    render_ctx_t *ctx = render_ctx_new();
    for (int z = 13; z <= 16; z++) {
        uint32_t span = 1u << (z - 13);
        for (uint32_t y = fx_at(FX_TY, z); y < fx_at(FX_TY, z) + 2 * span; y++)
            for (uint32_t x = fx_at(FX_TX, z); x < fx_at(FX_TX, z) + 2 * span; x++)
                for (int scale = 1; scale <= 2; scale++) {
                    cache_tile_t *tile;
                    int hit, empty;
                    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_DEFAULT, z, x, y, scale, &tile, &hit, err,
                                                  sizeof err), 0);
                    buf_t fresh = {0};
                    cr_assert_eq(render_tile(ctx, scene, RENDER_LAYER_DEFAULT, z, x, y, scale, &fresh, &empty, err,
                                             sizeof err), 0);
                    cr_assert(fresh.len == tile->len && !memcmp(fresh.data, tile->data, fresh.len),
                              "tile %d/%u/%u@%d (%s) is stale", z, x, y, scale, hit ? "cached" : "rendered");
                    buf_free(&fresh);
                    cache_tile_release(tile);
                }
    }
    render_ctx_free(ctx);
    render_scene_unref(scene);
    cache_serve_close(cs);
    store_close(wst);
}

Test(cache, disk_tier_survives_restarts_unless_data_changed_meanwhile) {
    cr_assert_eq(fx_build(db, &wst), 0);
    char err[512];
    cache_serve_t *cs;
    render_ctx_t *ctx = render_ctx_new();
    cache_tile_t *tile;
    int hit;
    double cx, cy;
    fx_tile_centre(FX_TX + 6, FX_TY + 6, &cx, &cy);
    cr_assert_eq(cache_serve_open(db, "geodata/styles/default.json", dir, 8 << 20, &cs, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX, FX_TY, 1, &tile, &hit, err, sizeof err), 0);
    cache_tile_release(tile);
    edit_community(1, 4, cx, cy, 1200, 4200);                 /* far from tile (TX, TY) */
    cr_assert_eq(cache_serve_sync(cs, NULL, err, sizeof err), 0, "%s", err);
    cache_serve_close(cs);
    /* the sync recorded what the disk tier reflects: a restart keeps the untouched tile */
    cr_assert_eq(cache_serve_open(db, "geodata/styles/default.json", dir, 8 << 20, &cs, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX, FX_TY, 1, &tile, &hit, err, sizeof err), 0);
    cr_assert_eq(hit, 1, "served from disk after a restart");
    cache_tile_release(tile);
    cache_serve_close(cs);
    /* an edit while no server runs is replayed from the change log at the next start */
    cr_assert_eq(cache_serve_open(db, "geodata/styles/default.json", dir, 8 << 20, &cs, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX + 6, FX_TY + 6, 1, &tile, &hit, err, sizeof err), 0);
    cache_tile_release(tile);
    cache_serve_close(cs);
    edit_community(2, 4, cx, cy, 1100, 4100);
    cr_assert_eq(cache_serve_open(db, "geodata/styles/default.json", dir, 8 << 20, &cs, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX, FX_TY, 1, &tile, &hit, err, sizeof err), 0);
    cr_assert_eq(hit, 1, "untouched tile kept across the restart");
    cache_tile_release(tile);
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX + 6, FX_TY + 6, 1, &tile, &hit, err, sizeof err), 0);
    cr_assert_eq(hit, 0, "tile under the offline edit expired at start");
    cache_tile_release(tile);
    cache_serve_close(cs);
    /* a bulk import (new data_version) while no server runs clears the tier */
    cr_assert_eq(store_meta_set(wst, "data_version", "7", err, sizeof err), 0);
    cr_assert_eq(cache_serve_open(db, "geodata/styles/default.json", dir, 8 << 20, &cs, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cache_serve_tile(cs, ctx, RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX, FX_TY, 1, &tile, &hit, err, sizeof err), 0);
    cr_assert_eq(hit, 0, "disk tier cleared after an import");
    cache_tile_release(tile);
    cache_serve_close(cs);
    render_ctx_free(ctx);
    store_close(wst);
}
