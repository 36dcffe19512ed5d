/* http_ogc.c — OGC API - Features Part 1 (Core, GeoJSON) over the stored tables and the computed
 * collections other modules register.
 *
 * Hot path: /collections/{id}/items?bbox=&limit=. The bbox goes through the SpatiaLite R*Tree
 * (idx_<table>_geom) and then an exact test only for features whose envelope is not inside the
 * bbox; statements are prepared once per worker and cached by SQL text; geometry blobs are read in
 * SpatiaLite's own format and written as GeoJSON straight into the response buffer (GEOS is used
 * only for blob kinds the fast reader does not know). numberMatched comes from a count over the
 * same indexed query. */
#include "http.h"
#include "err.h"
#include "log.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OGC_MAX_COLS 16
#define OGC_STMT_CACHE 48
#define OGC_CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#define OGC_DECIMALS 7

/* A stored collection: table description read at start-up, read-only afterwards. */
typedef struct ogc_table {
    const char *id;
    const char *title;
    const char *description;
    int ncols;
    char cols[OGC_MAX_COLS][32];   /* property columns (fid and geom excluded) */
    int col_is_int[OGC_MAX_COLS];
    char keys[OGC_MAX_COLS][40];   /* "\"name\":" ready to append */
    size_t keylen[OGC_MAX_COLS];
} ogc_table_t;

static ogc_table_t ogc_tables[] = {
    {.id = "communities", .title = "Communities (社区)", .description = "Community polygons with households and population"},
    {.id = "grids", .title = "Grids (网格)", .description = "Coded management grids inside communities"},
    {.id = "buildings", .title = "Buildings (楼栋)", .description = "Buildings with households and special-group counts"},
    {.id = "facilities", .title = "Facilities", .description = "Service facilities by type"},
    {.id = "streets", .title = "Streets (街道)", .description = "Sub-district polygons"},
    {.id = "roads", .title = "Roads", .description = "Road centre lines"},
};
#define OGC_NTABLES (int)(sizeof ogc_tables / sizeof ogc_tables[0])

typedef struct ogc_stmt { char *sql; sqlite3_stmt *stmt; } ogc_stmt_t;
typedef struct ogc_worker {
    ogc_stmt_t cache[OGC_STMT_CACHE];
    /* Used while a cached statement is being stepped, so they live outside the evicting cache. */
    sqlite3_stmt *slow_geojson, *slow_intersects;
    int next_evict;
} ogc_worker_t;

static ogc_table_t *ogc_table_find(const char *id) {
    for (int i = 0; i < OGC_NTABLES; i++)
        if (!strcmp(ogc_tables[i].id, id)) return &ogc_tables[i];
    return NULL;
}

static int ogc_init(const http_config_t *cfg, store_t *st, char *err, size_t errlen) {
    (void)cfg;
    for (int t = 0; t < OGC_NTABLES; t++) {
        ogc_table_t *tb = &ogc_tables[t];
        char sql[96];
        snprintf(sql, sizeof sql, "PRAGMA table_info(%s)", tb->id);
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
            return err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
        tb->ncols = 0;
        while (sqlite3_step(s) == SQLITE_ROW && tb->ncols < OGC_MAX_COLS) {
            const char *name = (const char *)sqlite3_column_text(s, 1);
            const char *type = (const char *)sqlite3_column_text(s, 2);
            if (!strcmp(name, "fid") || !strcmp(name, "geom")) continue;
            snprintf(tb->cols[tb->ncols], sizeof tb->cols[0], "%s", name);
            tb->col_is_int[tb->ncols] = type && !strcasecmp(type, "INTEGER");
            snprintf(tb->keys[tb->ncols], sizeof tb->keys[0], "\"%s\":", name);
            tb->keylen[tb->ncols] = strlen(tb->keys[tb->ncols]);
            tb->ncols++;
        }
        sqlite3_finalize(s);
        if (tb->ncols == 0) return err_set(err, errlen, GP_EDB, "%s: table %s is missing", st->path, tb->id);
    }
    return GP_OK;
}

static int ogc_worker_init(http_worker_t *w, char *err, size_t errlen) {
    w->slot[HTTP_SLOT_OGC] = calloc(1, sizeof(ogc_worker_t));
    return w->slot[HTTP_SLOT_OGC] ? GP_OK : err_set(err, errlen, GP_ENOMEM, "out of memory");
}

static void ogc_worker_free(http_worker_t *w) {
    ogc_worker_t *ow = w->slot[HTTP_SLOT_OGC];
    if (!ow) return;
    for (int i = 0; i < OGC_STMT_CACHE; i++) {
        sqlite3_finalize(ow->cache[i].stmt);
        free(ow->cache[i].sql);
    }
    sqlite3_finalize(ow->slow_geojson);
    sqlite3_finalize(ow->slow_intersects);
    free(ow);
    w->slot[HTTP_SLOT_OGC] = NULL;
}

/* A statement kept in *slot, prepared on first use (reset and unbound on later ones), or NULL. */
static sqlite3_stmt *ogc_prepare_fixed(http_worker_t *w, sqlite3_stmt **slot, const char *sql) {
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
    } else if (sqlite3_prepare_v3(w->store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        log_error("ogc: cannot prepare %s: %s", sql, sqlite3_errmsg(w->store->db));
        *slot = NULL;
    }
    return *slot;
}

/* A prepared statement for sql from the worker's cache (reset, bindings cleared), or NULL. */
static sqlite3_stmt *ogc_prepare(http_worker_t *w, const char *sql) {
    ogc_worker_t *ow = w->slot[HTTP_SLOT_OGC];
    for (int i = 0; i < OGC_STMT_CACHE; i++) {
        if (ow->cache[i].sql && !strcmp(ow->cache[i].sql, sql)) {
            sqlite3_reset(ow->cache[i].stmt);
            sqlite3_clear_bindings(ow->cache[i].stmt);
            return ow->cache[i].stmt;
        }
    }
    sqlite3_stmt *s;
    if (sqlite3_prepare_v3(w->store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        log_error("ogc: cannot prepare %s: %s", sql, sqlite3_errmsg(w->store->db));
        return NULL;
    }
    ogc_stmt_t *e = &ow->cache[ow->next_evict];
    ow->next_evict = (ow->next_evict + 1) % OGC_STMT_CACHE;
    sqlite3_finalize(e->stmt);
    free(e->sql);
    e->sql = strdup(sql);
    e->stmt = s;
    if (!e->sql) { sqlite3_finalize(s); e->stmt = NULL; return NULL; }
    return s;
}

/* ---- GeoJSON writing ---------------------------------------------------------------------- */

/* Appends without buf_append's per-call overhead: the GeoJSON writer appends a few bytes at a time,
 * millions of times a second. Keeps buf_t's NUL terminator. */
static inline void ogc_put(buf_t *b, const void *s, size_t n) {
    if (b->len + n + 1 > b->cap && buf_reserve(b, n < 4096 ? 4096 : n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}
static inline void ogc_putc(buf_t *b, char c) {
    if (b->len + 2 > b->cap && buf_reserve(b, 4096)) return;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}
#define OGC_LIT(b, lit) ogc_put((b), (lit), sizeof(lit) - 1)

static void ogc_int(buf_t *b, long long v) {
    char tmp[24];
    char *p = tmp + sizeof tmp;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do { *--p = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) *--p = '-';
    ogc_put(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* A JSON string literal; copies runs of plain bytes in one go. */
static void ogc_str(buf_t *b, const char *s) {
    ogc_putc(b, '"');
    const unsigned char *p = (const unsigned char *)s, *run = p;
    for (; *p; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\') continue;
        ogc_put(b, run, (size_t)(p - run));
        char esc[8];
        switch (*p) {
        case '"': ogc_put(b, "\\\"", 2); break;
        case '\\': ogc_put(b, "\\\\", 2); break;
        case '\n': ogc_put(b, "\\n", 2); break;
        case '\r': ogc_put(b, "\\r", 2); break;
        case '\t': ogc_put(b, "\\t", 2); break;
        default: snprintf(esc, sizeof esc, "\\u%04x", *p); ogc_put(b, esc, 6);
        }
        run = p + 1;
    }
    ogc_put(b, run, (size_t)(p - run));
    ogc_putc(b, '"');
}

/* Fixed 7 decimals with trailing zeros trimmed, without printf (this is the hot loop). */
static void ogc_coord(buf_t *b, double v) {
    if (!isfinite(v) || fabs(v) > 1e11) { buf_double(b, v, OGC_DECIMALS); return; }
    char tmp[40];
    char *p = tmp + sizeof tmp;
    int neg = v < 0;
    long long scaled = llround(fabs(v) * 1e7);
    long long ip = scaled / 10000000, fp = scaled % 10000000;
    int digits = 7;
    while (digits && fp % 10 == 0) { fp /= 10; digits--; }
    if (digits) {
        for (int i = 0; i < digits; i++) { *--p = (char)('0' + fp % 10); fp /= 10; }
        *--p = '.';
    }
    do { *--p = (char)('0' + ip % 10); ip /= 10; } while (ip);
    if (neg && (scaled != 0)) *--p = '-';
    ogc_put(b, p, (size_t)(tmp + sizeof tmp - p));
}

typedef struct ogc_reader { const unsigned char *p, *end; int little; } ogc_reader_t;

static int ogc_rd_i32(ogc_reader_t *r, int32_t *v) {
    if (r->end - r->p < 4) return -1;
    uint32_t u;
    memcpy(&u, r->p, 4);
    if (!r->little) u = __builtin_bswap32(u);
    memcpy(v, &u, 4);
    r->p += 4;
    return 0;
}

static double ogc_rd_double(const unsigned char *p, int little) {
    uint64_t u;
    memcpy(&u, p, 8);
    if (!little) u = __builtin_bswap64(u);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static void ogc_put_xy(buf_t *b, const unsigned char *p, int little) {
    ogc_putc(b, '[');
    ogc_coord(b, ogc_rd_double(p, little));
    ogc_putc(b, ',');
    ogc_coord(b, ogc_rd_double(p + 8, little));
    ogc_putc(b, ']');
}

static int ogc_rd_xy(ogc_reader_t *r, buf_t *b) {
    if (r->end - r->p < 16) return -1;
    ogc_put_xy(b, r->p, r->little);
    r->p += 16;
    return 0;
}

/* A point list. orient: 0 as stored; 1 counterclockwise; -1 clockwise (RFC 7946 §3.1.6 wants
 * exterior rings counterclockwise and holes clockwise; stored rings may be either). */
static int ogc_rd_line(ogc_reader_t *r, buf_t *b, int orient) {
    int32_t n;
    if (ogc_rd_i32(r, &n) || n < 0 || (r->end - r->p) / 16 < n) return -1;
    const unsigned char *pts = r->p;
    int reverse = 0;
    if (orient && n >= 4) {
        double twice_area = 0;
        for (int32_t i = 0; i + 1 < n; i++) {
            double x0 = ogc_rd_double(pts + 16 * i, r->little), y0 = ogc_rd_double(pts + 16 * i + 8, r->little);
            double x1 = ogc_rd_double(pts + 16 * (i + 1), r->little), y1 = ogc_rd_double(pts + 16 * (i + 1) + 8, r->little);
            twice_area += x0 * y1 - x1 * y0;
        }
        reverse = (orient > 0 && twice_area < 0) || (orient < 0 && twice_area > 0);
    }
    buf_reserve(b, (size_t)n * 24 + 2);
    ogc_putc(b, '[');
    for (int32_t i = 0; i < n; i++) {
        if (i) ogc_putc(b, ',');
        ogc_put_xy(b, pts + 16 * (reverse ? n - 1 - i : i), r->little);
    }
    ogc_putc(b, ']');
    r->p += (size_t)n * 16;
    return 0;
}

static int ogc_rd_polygon(ogc_reader_t *r, buf_t *b) {
    int32_t n;
    if (ogc_rd_i32(r, &n) || n < 0 || n > (r->end - r->p) / 4) return -1;
    ogc_putc(b, '[');
    for (int32_t i = 0; i < n; i++) {
        if (i) ogc_putc(b, ',');
        if (ogc_rd_line(r, b, i == 0 ? 1 : -1)) return -1;
    }
    ogc_putc(b, ']');
    return 0;
}

static int ogc_rd_body(ogc_reader_t *r, int32_t type, buf_t *b) {
    switch (type) {
    case 1: return ogc_rd_xy(r, b);
    case 2: return ogc_rd_line(r, b, 0);
    case 3: return ogc_rd_polygon(r, b);
    case 4: case 5: case 6: {
        int32_t n;
        if (ogc_rd_i32(r, &n) || n < 0 || n > (r->end - r->p) / 5) return -1;
        ogc_putc(b, '[');
        for (int32_t i = 0; i < n; i++) {
            int32_t sub;
            if (i) ogc_putc(b, ',');
            if (r->p >= r->end || *r->p != 0x69) return -1;
            r->p++;
            if (ogc_rd_i32(r, &sub) || sub != type - 3 || ogc_rd_body(r, sub, b)) return -1;
        }
        ogc_putc(b, ']');
        return 0;
    }
    default: return -1;
    }
}

static const char *const ogc_type_names[] = {"", "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"};

/* Writes a SpatiaLite XY geometry blob as a GeoJSON geometry. -1 for kinds it does not read (Z/M,
 * compressed, collections), leaving b as it was. */
static int ogc_blob_geojson(const unsigned char *blob, int len, buf_t *b) {
    if (len < 45 || blob[0] != 0x00 || blob[38] != 0x7C || blob[len - 1] != 0xFE) return -1;
    ogc_reader_t r = {blob + 39, blob + len - 1, blob[1] == 0x01};
    int32_t type;
    if (ogc_rd_i32(&r, &type) || type < 1 || type > 6) return -1;
    size_t mark = b->len;
    OGC_LIT(b, "{\"type\":\"");
    ogc_put(b, ogc_type_names[type], strlen(ogc_type_names[type]));
    OGC_LIT(b, "\",\"coordinates\":");
    if (ogc_rd_body(&r, type, b) || r.p != r.end) {
        b->len = mark;
        b->data[mark] = '\0';
        return -1;
    }
    ogc_putc(b, '}');
    return 0;
}

/* ---- Exact bbox test on the blob ----------------------------------------------------------
 * The R*Tree stores 32-bit bounds rounded outwards, so its answer is a superset. Each candidate's
 * own MBR (doubles in the blob header) settles most cases; only geometries straddling the bbox edge
 * are walked: any vertex inside or any segment crossing the rectangle means they intersect, and a
 * polygon can still contain the whole rectangle (a corner inside by the even-odd rule). */

typedef struct ogc_rect { double minx, miny, maxx, maxy; } ogc_rect_t;

static int ogc_outcode(const ogc_rect_t *r, double x, double y) {
    return (x < r->minx) | (x > r->maxx) << 1 | (y < r->miny) << 2 | (y > r->maxy) << 3;
}

/* Cohen–Sutherland: does the closed segment touch the closed rectangle? */
static int ogc_segment_hits(const ogc_rect_t *r, double x0, double y0, double x1, double y1) {
    int c0 = ogc_outcode(r, x0, y0), c1 = ogc_outcode(r, x1, y1);
    for (int guard = 0; guard < 8; guard++) {
        if (!(c0 | c1)) return 1;
        if (c0 & c1) return 0;
        int c = c0 ? c0 : c1;
        double x, y;
        if (c & 8) { x = x0 + (x1 - x0) * (r->maxy - y0) / (y1 - y0); y = r->maxy; }
        else if (c & 4) { x = x0 + (x1 - x0) * (r->miny - y0) / (y1 - y0); y = r->miny; }
        else if (c & 2) { y = y0 + (y1 - y0) * (r->maxx - x0) / (x1 - x0); x = r->maxx; }
        else { y = y0 + (y1 - y0) * (r->minx - x0) / (x1 - x0); x = r->minx; }
        if (c == c0) { x0 = x; y0 = y; c0 = ogc_outcode(r, x0, y0); }
        else { x1 = x; y1 = y; c1 = ogc_outcode(r, x1, y1); }
    }
    return 0;
}

/* Walks one point list: 1 when it touches r; *crossings counts edges crossed by the ray from
 * (px, py) to +x (point-in-polygon). -1 on a malformed blob. */
static int ogc_walk_points(ogc_reader_t *rd, const ogc_rect_t *r, double px, double py, int *crossings) {
    int32_t n;
    if (ogc_rd_i32(rd, &n) || n < 0 || (rd->end - rd->p) / 16 < n) return -1;
    const unsigned char *p = rd->p;
    rd->p += (size_t)n * 16;
    double x0 = 0, y0 = 0;
    for (int32_t i = 0; i < n; i++) {
        double x = ogc_rd_double(p + 16 * i, rd->little), y = ogc_rd_double(p + 16 * i + 8, rd->little);
        if (i == 0 ? !ogc_outcode(r, x, y) : ogc_segment_hits(r, x0, y0, x, y)) return 1;
        if (i > 0 && crossings && ((y0 > py) != (y > py)) && px < x0 + (x - x0) * (py - y0) / (y - y0)) (*crossings)++;
        x0 = x;
        y0 = y;
    }
    return 0;
}

static int ogc_walk(ogc_reader_t *rd, int32_t type, const ogc_rect_t *r) {
    switch (type) {
    case 1: case 2: return ogc_walk_points(rd, r, 0, 0, NULL);
    case 1001: {  /* a point of a multipoint: reuse the list walker on a 1-point list */
        if (rd->end - rd->p < 16) return -1;
        double x = ogc_rd_double(rd->p, rd->little), y = ogc_rd_double(rd->p + 8, rd->little);
        rd->p += 16;
        return !ogc_outcode(r, x, y);
    }
    case 3: {
        int32_t rings;
        if (ogc_rd_i32(rd, &rings) || rings < 0) return -1;
        int crossings = 0, hit = 0;
        for (int32_t i = 0; i < rings && !hit; i++) {
            hit = ogc_walk_points(rd, r, r->minx, r->miny, &crossings);
            if (hit < 0) return -1;
        }
        return hit || (crossings & 1);
    }
    case 4: case 5: case 6: {
        int32_t n;
        if (ogc_rd_i32(rd, &n) || n < 0) return -1;
        for (int32_t i = 0; i < n; i++) {
            int32_t sub;
            if (rd->p >= rd->end || *rd->p != 0x69) return -1;
            rd->p++;
            if (ogc_rd_i32(rd, &sub) || sub != type - 3) return -1;
            int hit = ogc_walk(rd, sub == 1 ? 1001 : sub, r);
            if (hit) return hit;
        }
        return 0;
    }
    default: return -1;
    }
}

/* 1 if the SpatiaLite XY blob intersects the closed rectangle, 0 if not, -1 if this reader cannot
 * tell (other blob kinds: the caller asks SpatiaLite). */
static int ogc_blob_intersects(const unsigned char *blob, int len, const ogc_rect_t *r) {
    if (len < 45 || blob[0] != 0x00 || blob[38] != 0x7C || blob[len - 1] != 0xFE) return -1;
    int little = blob[1] == 0x01;
    double minx = ogc_rd_double(blob + 6, little), miny = ogc_rd_double(blob + 14, little);
    double maxx = ogc_rd_double(blob + 22, little), maxy = ogc_rd_double(blob + 30, little);
    if (maxx < r->minx || minx > r->maxx || maxy < r->miny || miny > r->maxy) return 0;
    if (minx >= r->minx && maxx <= r->maxx && miny >= r->miny && maxy <= r->maxy) return 1;
    ogc_reader_t rd = {blob + 39, blob + len - 1, little};
    int32_t type;
    if (ogc_rd_i32(&rd, &type) || type < 1 || type > 6) return -1;
    return ogc_walk(&rd, type, r);
}

/* The slow path for any other blob: SpatiaLite to WKB, GEOS to GeoJSON. */
static int ogc_geom_slow(http_worker_t *w, const void *blob, int len, buf_t *b) {
    ogc_worker_t *ow = w->slot[HTTP_SLOT_OGC];
    sqlite3_stmt *s = ogc_prepare_fixed(w, &ow->slow_geojson, "SELECT ST_AsBinary(CastToXY(?))");
    if (!s) return GP_EDB;
    sqlite3_bind_blob(s, 1, blob, len, SQLITE_STATIC);
    int rc = GP_EGEOM;
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_BLOB) {
        GEOSGeometry *g = geo_from_wkb(w->geos, sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0));
        if (g) {
            rc = geo_to_geojson(w->geos, g, OGC_DECIMALS, b);
            GEOSGeom_destroy_r(w->geos, g);
        }
    }
    sqlite3_reset(s);
    return rc;
}

/* SpatiaLite decides for blob kinds the fast test does not read. 1, 0, or -1 on error. */
static int ogc_intersects_slow(http_worker_t *w, const void *blob, int len, const double bbox[4]) {
    ogc_worker_t *ow = w->slot[HTTP_SLOT_OGC];
    sqlite3_stmt *s = ogc_prepare_fixed(w, &ow->slow_intersects, "SELECT ST_Intersects(?1, BuildMbr(?2, ?3, ?4, ?5))");
    if (!s) return -1;
    sqlite3_bind_blob(s, 1, blob, len, SQLITE_STATIC);
    for (int i = 0; i < 4; i++) sqlite3_bind_double(s, 2 + i, bbox[i]);
    int hit = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
    sqlite3_reset(s);
    return hit > 0;
}

/* Writes one Feature from a row: column 0 fid, 1..ncols properties, ncols+1 geometry blob. */
static int ogc_write_feature(http_worker_t *w, const ogc_table_t *tb, sqlite3_stmt *s, buf_t *b) {
    OGC_LIT(b, "{\"type\":\"Feature\",\"id\":");
    ogc_int(b, sqlite3_column_int64(s, 0));
    OGC_LIT(b, ",\"geometry\":");
    int gi = tb->ncols + 1;
    if (sqlite3_column_type(s, gi) != SQLITE_BLOB) {
        OGC_LIT(b, "null");
    } else {
        const void *blob = sqlite3_column_blob(s, gi);
        int len = sqlite3_column_bytes(s, gi);
        if (ogc_blob_geojson(blob, len, b) && ogc_geom_slow(w, blob, len, b)) buf_puts(b, "null");
    }
    OGC_LIT(b, ",\"properties\":{");
    for (int c = 0; c < tb->ncols; c++) {
        if (c) ogc_putc(b, ',');
        ogc_put(b, tb->keys[c], tb->keylen[c]);
        switch (sqlite3_column_type(s, c + 1)) {
        case SQLITE_INTEGER: ogc_int(b, sqlite3_column_int64(s, c + 1)); break;
        case SQLITE_FLOAT: buf_double(b, sqlite3_column_double(s, c + 1), 10); break;
        case SQLITE_NULL: OGC_LIT(b, "null"); break;
        default: ogc_str(b, (const char *)sqlite3_column_text(s, c + 1));
        }
    }
    OGC_LIT(b, "}}");
    return GP_OK;
}

/* ---- Query building ----------------------------------------------------------------------- */

static void ogc_select_list(const ogc_table_t *tb, buf_t *sql) {
    buf_puts(sql, "SELECT fid");
    for (int c = 0; c < tb->ncols; c++) buf_printf(sql, ",\"%s\"", tb->cols[c]);
    buf_printf(sql, ",geom FROM %s", tb->id);
}

/* WHERE clause for the R*Tree candidates and the filters; parameters: ?2..?5 the bbox, ?6.. one
 * per filter. The exact bbox test happens in C on each candidate's blob. */
static void ogc_where(const ogc_table_t *tb, const http_items_query_t *q, buf_t *sql) {
    const char *glue = " WHERE ";
    if (q->has_bbox) {
        buf_printf(sql, "%sfid IN (SELECT pkid FROM idx_%s_geom WHERE xmin <= ?4 AND xmax >= ?2 AND ymin <= ?5 AND ymax >= ?3)",
                   glue, tb->id);
        glue = " AND ";
    }
    for (int i = 0; i < q->nfilters; i++) {
        buf_printf(sql, "%s\"%s\" = ?%d", glue, q->filter_names[i], 6 + i);
        glue = " AND ";
    }
}

static void ogc_bind(sqlite3_stmt *s, const ogc_table_t *tb, const http_items_query_t *q) {
    if (q->has_bbox)
        for (int i = 0; i < 4; i++) sqlite3_bind_double(s, 2 + i, q->bbox[i]);
    for (int i = 0; i < q->nfilters; i++) {
        int is_int = 0;
        for (int c = 0; c < tb->ncols; c++)
            if (!strcmp(tb->cols[c], q->filter_names[i])) is_int = tb->col_is_int[c];
        int64_t v;
        if (is_int && http_parse_int(q->filter_values[i], INT64_MIN / 2, INT64_MAX / 2, &v) == GP_OK)
            sqlite3_bind_int64(s, 6 + i, v);
        else
            sqlite3_bind_text(s, 6 + i, q->filter_values[i], -1, SQLITE_STATIC);
    }
}

static int ogc_table_items(http_worker_t *w, const ogc_table_t *tb, const http_items_query_t *q, buf_t *out,
                           int64_t *matched, int64_t *returned, char *err, size_t errlen) {
    for (int i = 0; i < q->nfilters; i++) {
        int known = 0;
        for (int c = 0; c < tb->ncols; c++) known |= !strcmp(tb->cols[c], q->filter_names[i]);
        if (!known)
            return err_set(err, errlen, GP_EINVAL, "unknown query parameter '%s': not a property of %s", q->filter_names[i], tb->id);
    }
    buf_t sql = {0};
    int rc = GP_OK, r;
    sqlite3_stmt *s;
    *matched = *returned = 0;
    if (q->has_bbox) {
        /* One pass over the R*Tree candidates in fid order: count the exact matches and write the
         * page. (Counting from the R*Tree alone — entries inside the bbox are sure matches — was
         * measured slower: two R*Tree scans cost more than reading the ~100 rows of a tile, and a
         * whole-city count took 70-100 ms against 50 ms for this pass.) */
        ogc_rect_t rect = {q->bbox[0], q->bbox[1], q->bbox[2], q->bbox[3]};
        ogc_select_list(tb, &sql);
        ogc_where(tb, q, &sql);
        buf_puts(&sql, " ORDER BY fid");
        s = ogc_prepare(w, sql.data);
        if (!s) { rc = err_set(err, errlen, GP_EDB, "cannot query %s", tb->id); goto end; }
        ogc_bind(s, tb, q);
        int gi = tb->ncols + 1;
        int64_t seen = 0;
        while ((r = sqlite3_step(s)) == SQLITE_ROW) {
            if (sqlite3_column_type(s, gi) != SQLITE_BLOB) continue;
            const unsigned char *blob = sqlite3_column_blob(s, gi);
            int len = sqlite3_column_bytes(s, gi);
            int hit = ogc_blob_intersects(blob, len, &rect);
            if (hit < 0) hit = ogc_intersects_slow(w, blob, len, q->bbox);
            if (hit <= 0) continue;
            if (++seen <= q->offset || *returned >= q->limit) continue;
            if (*returned) ogc_putc(out, ',');
            ogc_write_feature(w, tb, s, out);
            (*returned)++;
        }
        *matched = seen;
        if (r != SQLITE_DONE) rc = err_set(err, errlen, GP_EDB, "%s: %s", tb->id, sqlite3_errmsg(w->store->db));
        sqlite3_reset(s);
        goto end;
    }
    buf_puts(&sql, "SELECT count(*) FROM ");
    buf_puts(&sql, tb->id);
    ogc_where(tb, q, &sql);
    s = ogc_prepare(w, sql.data);
    if (!s) { rc = err_set(err, errlen, GP_EDB, "cannot query %s", tb->id); goto end; }
    ogc_bind(s, tb, q);
    *matched = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_reset(s);
    if (q->offset >= *matched) goto end;
    buf_reset(&sql);
    ogc_select_list(tb, &sql);
    ogc_where(tb, q, &sql);
    buf_puts(&sql, " ORDER BY fid LIMIT ?14 OFFSET ?15");
    s = ogc_prepare(w, sql.data);
    if (!s) { rc = err_set(err, errlen, GP_EDB, "cannot query %s", tb->id); goto end; }
    ogc_bind(s, tb, q);
    sqlite3_bind_int64(s, 14, q->limit);
    sqlite3_bind_int64(s, 15, q->offset);
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        if (*returned) ogc_putc(out, ',');
        ogc_write_feature(w, tb, s, out);
        (*returned)++;
    }
    if (r != SQLITE_DONE) rc = err_set(err, errlen, GP_EDB, "%s: %s", tb->id, sqlite3_errmsg(w->store->db));
    sqlite3_reset(s);
end:
    buf_free(&sql);
    return rc;
}

/* ---- Handlers ----------------------------------------------------------------------------- */

static int ogc_check_f(http_req_t *req, http_res_t *res) {
    const char *f = http_query(req, "f");
    if (f && strcmp(f, "json") && strcmp(f, "geojson") && strcmp(f, "application/json") && strcmp(f, "application/geo+json")) {
        http_error(res, 400, "bad request", "f=%.40s is not offered; only f=json", f);
        return 1;
    }
    return 0;
}

static void ogc_link(buf_t *b, const char *href_base, const char *href_path, const char *rel, const char *type,
                     const char *title, int comma) {
    if (comma) buf_append(b, ",", 1);
    buf_puts(b, "{\"href\":\"");
    buf_puts(b, href_base);
    buf_puts(b, href_path);
    buf_printf(b, "\",\"rel\":\"%s\",\"type\":\"%s\"", rel, type);
    if (title) { buf_puts(b, ",\"title\":"); buf_json_string(b, title); }
    buf_append(b, "}", 1);
}

static int ogc_landing(http_req_t *req, http_res_t *res) {
    if (ogc_check_f(req, res)) return 0;
    buf_t *b = &res->body;
    buf_puts(b, "{\"title\":\"gridplan\",\"description\":\"Community grid planning data: communities, grids, buildings, "
                "facilities, streets, roads and computed collections\",\"links\":[");
    ogc_link(b, req->base_url, "/", "self", "application/json", "this document", 0);
    ogc_link(b, req->base_url, "/openapi", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "API definition", 1);
    ogc_link(b, req->base_url, "/conformance", "conformance", "application/json", "conformance classes", 1);
    ogc_link(b, req->base_url, "/collections", "data", "application/json", "collections", 1);
    buf_puts(b, "]}\n");
    return 0;
}

static int ogc_conformance(http_req_t *req, http_res_t *res) {
    if (ogc_check_f(req, res)) return 0;
    buf_puts(&res->body, "{\"conformsTo\":[\"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core\","
                         "\"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson\"]}\n");
    return 0;
}

/* The API definition the landing page links as service-desc (OGC API - Features Core asks for one):
 * the OGC paths with their parameters; the planning API is described in the README. */
static int ogc_openapi(http_req_t *req, http_res_t *res) {
    (void)req;
    buf_puts(&res->body,
        "{\"openapi\":\"3.0.3\",\"info\":{\"title\":\"gridplan\",\"version\":\"1\",\"description\":\"OGC API - Features "
        "(Core, GeoJSON) over the gridplan database\"},\"paths\":{"
        "\"/\":{\"get\":{\"summary\":\"landing page\",\"responses\":{\"200\":{\"description\":\"links\"}}}},"
        "\"/conformance\":{\"get\":{\"summary\":\"conformance classes\",\"responses\":{\"200\":{\"description\":\"conformsTo\"}}}},"
        "\"/collections\":{\"get\":{\"summary\":\"collections\",\"responses\":{\"200\":{\"description\":\"collections\"}}}},"
        "\"/collections/{collectionId}\":{\"get\":{\"summary\":\"one collection\",\"parameters\":[{\"$ref\":\"#/components/parameters/collectionId\"}],"
        "\"responses\":{\"200\":{\"description\":\"collection\"},\"404\":{\"description\":\"unknown collection\"}}}},"
        "\"/collections/{collectionId}/items\":{\"get\":{\"summary\":\"features\",\"parameters\":[{\"$ref\":\"#/components/parameters/collectionId\"},"
        "{\"name\":\"bbox\",\"in\":\"query\",\"style\":\"form\",\"explode\":false,\"schema\":{\"type\":\"array\",\"minItems\":4,\"maxItems\":4,\"items\":{\"type\":\"number\"}}},"
        "{\"name\":\"limit\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"default\":10}},"
        "{\"name\":\"offset\",\"in\":\"query\",\"schema\":{\"type\":\"integer\",\"minimum\":0,\"default\":0}}],"
        "\"responses\":{\"200\":{\"description\":\"GeoJSON FeatureCollection\",\"content\":{\"application/geo+json\":{}}},\"400\":{\"description\":\"bad parameter\"}}}},"
        "\"/collections/{collectionId}/items/{featureId}\":{\"get\":{\"summary\":\"one feature\",\"parameters\":[{\"$ref\":\"#/components/parameters/collectionId\"},"
        "{\"name\":\"featureId\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"integer\"}}],"
        "\"responses\":{\"200\":{\"description\":\"GeoJSON Feature\",\"content\":{\"application/geo+json\":{}}},\"404\":{\"description\":\"unknown feature\"}}}}},"
        "\"components\":{\"parameters\":{\"collectionId\":{\"name\":\"collectionId\",\"in\":\"path\",\"required\":true,\"schema\":{\"type\":\"string\"}}}}}\n");
    res->content_type = "application/vnd.oai.openapi+json;version=3.0";
    return 0;
}

static void ogc_extent(http_worker_t *w, const char *table, buf_t *b) {
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_%s_geom", table);
    sqlite3_stmt *s = ogc_prepare(w, sql);
    if (s && sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        buf_puts(b, ",\"extent\":{\"spatial\":{\"bbox\":[[");
        for (int i = 0; i < 4; i++) {
            if (i) buf_append(b, ",", 1);
            buf_double(b, sqlite3_column_double(s, i), OGC_DECIMALS);
        }
        buf_puts(b, "]],\"crs\":\"" OGC_CRS84 "\"}}");
    }
    if (s) sqlite3_reset(s);
}

static void ogc_collection_json(http_req_t *req, const char *id, const char *title, const char *description,
                                const char *table, buf_t *b) {
    char path[160];
    buf_puts(b, "{\"id\":");
    buf_json_string(b, id);
    buf_puts(b, ",\"title\":");
    buf_json_string(b, title);
    buf_puts(b, ",\"description\":");
    buf_json_string(b, description ? description : "");
    buf_puts(b, ",\"itemType\":\"feature\",\"crs\":[\"" OGC_CRS84 "\"],\"links\":[");
    snprintf(path, sizeof path, "/collections/%s", id);
    ogc_link(b, req->base_url, path, "self", "application/json", NULL, 0);
    snprintf(path, sizeof path, "/collections/%s/items", id);
    ogc_link(b, req->base_url, path, "items", "application/geo+json", "items", 1);
    buf_append(b, "]", 1);
    if (table) ogc_extent(req->worker, table, b);
    buf_append(b, "}", 1);
}

static int ogc_collections(http_req_t *req, http_res_t *res) {
    if (ogc_check_f(req, res)) return 0;
    buf_t *b = &res->body;
    buf_puts(b, "{\"links\":[");
    ogc_link(b, req->base_url, "/collections", "self", "application/json", NULL, 0);
    buf_puts(b, "],\"collections\":[");
    for (int i = 0; i < OGC_NTABLES; i++) {
        if (i) buf_append(b, ",", 1);
        ogc_collection_json(req, ogc_tables[i].id, ogc_tables[i].title, ogc_tables[i].description, ogc_tables[i].id, b);
    }
    for (const http_collection_t *const *c = http_collections(); *c; c++) {
        buf_append(b, ",", 1);
        ogc_collection_json(req, (*c)->id, (*c)->title, (*c)->description, NULL, b);
    }
    buf_puts(b, "]}\n");
    return 0;
}

static int ogc_collection(http_req_t *req, http_res_t *res) {
    if (ogc_check_f(req, res)) return 0;
    const char *id = http_param(req, "id");
    const ogc_table_t *tb = ogc_table_find(id);
    const http_collection_t *cc = tb ? NULL : http_collection_find(id);
    if (!tb && !cc) return http_error(res, 404, "not found", "no collection '%.100s'", id);
    if (tb) ogc_collection_json(req, tb->id, tb->title, tb->description, tb->id, &res->body);
    else ogc_collection_json(req, cc->id, cc->title, cc->description, NULL, &res->body);
    buf_append(&res->body, "\n", 1);
    return 0;
}

/* Query parameters: the reserved ones are checked, every other one is a property filter. */
typedef struct ogc_args { http_items_query_t *q; char bad[160]; } ogc_args_t;
static void ogc_collect_arg(void *user, const char *key, const char *value) {
    ogc_args_t *a = user;
    static const char *const reserved[] = {"f", "bbox", "limit", "offset", "bbox-crs", "crs", NULL};
    for (int i = 0; reserved[i]; i++)
        if (!strcmp(key, reserved[i])) return;
    if (!strcmp(key, "datetime") || !strcmp(key, "properties") || !strcmp(key, "sortby") || !strcmp(key, "filter")) {
        if (!a->bad[0]) snprintf(a->bad, sizeof a->bad, "query parameter '%s' is not supported", key);
        return;
    }
    if (a->q->nfilters >= HTTP_MAX_PARAMS) {
        if (!a->bad[0]) snprintf(a->bad, sizeof a->bad, "at most %d property filters", HTTP_MAX_PARAMS);
        return;
    }
    a->q->filter_names[a->q->nfilters] = key;
    a->q->filter_values[a->q->nfilters] = value ? value : "";
    a->q->nfilters++;
}

static void ogc_url_escape(buf_t *b, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~,", *p)) {
            buf_append(b, p, 1);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            buf_append(b, e, 3);
        }
    }
}

static void ogc_page_link(buf_t *b, http_req_t *req, const http_items_query_t *q, int64_t offset, const char *rel) {
    buf_puts(b, ",{\"href\":\"");
    buf_puts(b, req->base_url);
    buf_puts(b, req->path);
    buf_printf(b, "?f=json&limit=%lld", (long long)q->limit);
    if (offset) buf_printf(b, "&offset=%lld", (long long)offset);
    if (q->has_bbox) {
        buf_puts(b, "&bbox=");
        for (int i = 0; i < 4; i++) {
            if (i) buf_append(b, ",", 1);
            buf_double(b, q->bbox[i], 9);
        }
    }
    for (int i = 0; i < q->nfilters; i++) {
        buf_append(b, "&", 1);
        ogc_url_escape(b, q->filter_names[i]);
        buf_append(b, "=", 1);
        ogc_url_escape(b, q->filter_values[i]);
    }
    buf_printf(b, "\",\"rel\":\"%s\",\"type\":\"application/geo+json\"}", rel);
}

static int ogc_items(http_req_t *req, http_res_t *res) {
    if (ogc_check_f(req, res)) return 0;
    const char *id = http_param(req, "id");
    const ogc_table_t *tb = ogc_table_find(id);
    const http_collection_t *cc = tb ? NULL : http_collection_find(id);
    if (!tb && !cc) return http_error(res, 404, "not found", "no collection '%.100s'", id);
    http_items_query_t q;
    memset(&q, 0, sizeof q);
    q.limit = 10;
    const char *v;
    if ((v = http_query(req, "limit")) && http_parse_int(v, 1, 10000, &q.limit))
        return http_error(res, 400, "bad request", "limit '%.40s' is out of range: expected a whole number 1..10000", v);
    if ((v = http_query(req, "offset")) && http_parse_int(v, 0, INT64_MAX / 4, &q.offset))
        return http_error(res, 400, "bad request", "offset '%.40s' is out of range: expected a whole number >= 0", v);
    if ((v = http_query(req, "bbox-crs")) && strcmp(v, OGC_CRS84))
        return http_error(res, 400, "bad request", "bbox-crs '%.100s' is not supported; only " OGC_CRS84, v);
    if ((v = http_query(req, "crs")) && strcmp(v, OGC_CRS84))
        return http_error(res, 400, "bad request", "crs '%.100s' is not supported; only " OGC_CRS84, v);
    if ((v = http_query(req, "bbox"))) {
        if (http_parse_bbox(v, q.bbox, res->err, sizeof res->err)) return http_error(res, 400, "bad request", "%s", res->err);
        q.has_bbox = 1;
    }
    ogc_args_t args = {&q, ""};
    http_query_each(req, ogc_collect_arg, &args);
    if (args.bad[0]) return http_error(res, 400, "bad request", "%s", args.bad);

    /* Features are written straight into the body; the counts follow them (member order does not
     * matter in JSON), so nothing is copied once written. */
    buf_t *b = &res->body;
    buf_reserve(b, (size_t)(q.limit < 4096 ? q.limit : 4096) * 256);
    OGC_LIT(b, "{\"type\":\"FeatureCollection\",\"features\":[");
    int64_t matched = 0, returned = 0;
    int rc = tb ? ogc_table_items(req->worker, tb, &q, b, &matched, &returned, res->err, sizeof res->err)
                : cc->items(req->worker, &q, b, &matched, &returned, res->err, sizeof res->err);
    if (rc == GP_EINVAL) return http_error(res, 400, "bad request", "%s", res->err);
    if (rc) {
        buf_free(b);
        return rc;
    }
    buf_printf(b, "],\"numberMatched\":%lld,\"numberReturned\":%lld,\"links\":[", (long long)matched, (long long)returned);
    char path[160];
    snprintf(path, sizeof path, "/collections/%s", id);
    ogc_link(b, req->base_url, path, "collection", "application/json", NULL, 0);
    ogc_page_link(b, req, &q, q.offset, "self");
    if (q.offset + returned < matched) ogc_page_link(b, req, &q, q.offset + returned, "next");
    if (q.offset > 0) ogc_page_link(b, req, &q, q.offset > q.limit ? q.offset - q.limit : 0, "prev");
    buf_puts(b, "]}\n");
    res->content_type = "application/geo+json";
    return 0;
}

static int ogc_item(http_req_t *req, http_res_t *res) {
    if (ogc_check_f(req, res)) return 0;
    const char *id = http_param(req, "id"), *fids = http_param(req, "fid");
    const ogc_table_t *tb = ogc_table_find(id);
    const http_collection_t *cc = tb ? NULL : http_collection_find(id);
    if (!tb && !cc) return http_error(res, 404, "not found", "no collection '%.100s'", id);
    int64_t fid;
    if (http_parse_int(fids, INT64_MIN / 2, INT64_MAX / 2, &fid))
        return http_error(res, 404, "not found", "no feature '%.60s' in %s (ids are integers)", fids, id);
    buf_t *b = &res->body;
    if (tb) {
        buf_t sql = {0};
        ogc_select_list(tb, &sql);
        buf_puts(&sql, " WHERE fid = ?1");
        sqlite3_stmt *s = ogc_prepare(req->worker, sql.data);
        buf_free(&sql);
        if (!s) return err_set(res->err, sizeof res->err, GP_EDB, "cannot query %s", id);
        sqlite3_bind_int64(s, 1, fid);
        int found = sqlite3_step(s) == SQLITE_ROW;
        if (found) ogc_write_feature(req->worker, tb, s, b);
        sqlite3_reset(s);
        if (!found) return http_error(res, 404, "not found", "no feature %lld in %s", (long long)fid, id);
    } else if (cc->item) {
        int rc = cc->item(req->worker, fid, b, res->err, sizeof res->err);
        if (rc == GP_ENOTFOUND) return http_error(res, 404, "not found", "no feature %lld in %s", (long long)fid, id);
        if (rc) return rc;
    } else {
        return http_error(res, 404, "not found", "collection %s does not serve single features", id);
    }
    /* Turn the bare Feature into one with links: drop the final '}' and append them. */
    b->len--;
    buf_puts(b, ",\"links\":[");
    char path[200];
    snprintf(path, sizeof path, "/collections/%s/items/%lld", id, (long long)fid);
    ogc_link(b, req->base_url, path, "self", "application/geo+json", NULL, 0);
    snprintf(path, sizeof path, "/collections/%s", id);
    ogc_link(b, req->base_url, path, "collection", "application/json", NULL, 1);
    buf_puts(b, "]}\n");
    res->content_type = "application/geo+json";
    return 0;
}

static const http_route_t ogc_routes[] = {
    {"GET", "/", ogc_landing, AUTH_NONE},
    {"GET", "/conformance", ogc_conformance, AUTH_NONE},
    {"GET", "/openapi", ogc_openapi, AUTH_NONE},
    {"GET", "/collections", ogc_collections, AUTH_NONE},
    {"GET", "/collections/{id}", ogc_collection, AUTH_NONE},
    {"GET", "/collections/{id}/items", ogc_items, AUTH_NONE},
    {"GET", "/collections/{id}/items/{fid}", ogc_item, AUTH_NONE},
    {NULL, NULL, NULL, 0}};

const http_module_t http_ogc_module = {
    .name = "ogc",
    .routes = ogc_routes,
    .init = ogc_init,
    .worker_init = ogc_worker_init,
    .worker_free = ogc_worker_free,
};
