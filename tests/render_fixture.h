/* render_fixture.h — a small synthetic city for render and cache tests, laid out on z15 tiles.
 *
 * Around base tile (FX_TX, FX_TY) at zoom 15 near Hohhot:
 *   A "新华社区" 2000 households (within): square of half-side 2000 m centred on the corner shared by
 *     tiles (TX..TX+1, TY..TY+1), so its label straddles that 2x2 block and no outline enters it;
 *   B "新华社区" 500 (under): same size, centred on tile (TX+6, TY): its label sits inside that tile;
 *   C "光明社区" 3500 (over) and D "团结社区" 5000 (split): half-side 1000 m centred on tiles
 *     (TX+1, TY+6) and (TX+6, TY+6).
 * Tile (TX+20, TY+20) is empty. Geometry is stored in lon/lat as the schema says. */
#ifndef RENDER_FIXTURE_H
#define RENDER_FIXTURE_H
#include "geo.h"
#include "store.h"
#include "tile.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FX_Z 15
static uint32_t FX_TX, FX_TY;

static void fx_tile_corner(uint32_t x, uint32_t y, double *mx, double *my) {
    double a, b, c, d;
    tile_bounds(FX_Z, x, y, &a, &b, &c, &d);
    *mx = a;
    *my = d;
}

/* WKT of a Mercator square (lon/lat coordinates). */
static void fx_square_wkt(double cx, double cy, double half, char *out, size_t n) {
    double lon[4], lat[4];
    double xs[4] = {cx - half, cx + half, cx + half, cx - half}, ys[4] = {cy - half, cy - half, cy + half, cy + half};
    for (int i = 0; i < 4; i++) geo_merc_to_lonlat(xs[i], ys[i], &lon[i], &lat[i]);
    snprintf(out, n, "MULTIPOLYGON(((%.9f %.9f,%.9f %.9f,%.9f %.9f,%.9f %.9f,%.9f %.9f)))", lon[0], lat[0], lon[1],
             lat[1], lon[2], lat[2], lon[3], lat[3], lon[0], lat[0]);
}

static int fx_insert_community(store_t *st, int fid, const char *code, const char *name, long households, double cx,
                               double cy, double half) {
    char wkt[512], sql[1024], err[256];
    fx_square_wkt(cx, cy, half, wkt, sizeof wkt);
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO communities(fid, code, name, households, population, geom) VALUES "
             "(%d, '%s', '%s', %ld, %ld, GeomFromText('%s', 4326))",
             fid, code, name, households, households * 3, wkt);
    return store_exec(st, sql, err, sizeof err);
}

/* Centre of tile (x, y) at FX_Z in Mercator. */
static void fx_tile_centre(uint32_t x, uint32_t y, double *mx, double *my) {
    double a, b, c, d;
    tile_bounds(FX_Z, x, y, &a, &b, &c, &d);
    *mx = (a + c) / 2;
    *my = (b + d) / 2;
}

static int fx_build(const char *path, store_t **out) {
    double mx, my;
    geo_lonlat_to_merc(111.70, 40.80, &mx, &my);
    uint32_t x0, y0, x1, y1;
    tile_range_merc(FX_Z, mx, my, mx, my, 0, &x0, &y0, &x1, &y1);
    FX_TX = x0;
    FX_TY = y0;
    unlink(path);
    char err[256];
    store_t *st;
    if (store_open(path, STORE_CREATE, &st, err, sizeof err)) { fprintf(stderr, "%s\n", err); return -1; }
    double cx, cy;
    int rc = 0;
    fx_tile_corner(FX_TX + 1, FX_TY + 1, &cx, &cy);
    rc |= fx_insert_community(st, 1, "150102001001", "新华社区", 2000, cx, cy, 2000);
    fx_tile_centre(FX_TX + 6, FX_TY, &cx, &cy);
    rc |= fx_insert_community(st, 2, "150102001002", "新华社区", 500, cx, cy, 2000);
    fx_tile_centre(FX_TX + 1, FX_TY + 6, &cx, &cy);
    rc |= fx_insert_community(st, 3, "150102001003", "光明社区", 3500, cx, cy, 1000);
    fx_tile_centre(FX_TX + 6, FX_TY + 6, &cx, &cy);
    rc |= fx_insert_community(st, 4, "150102001004", "团结社区", 5000, cx, cy, 1000);
    if (rc) { store_close(st); return -1; }
    *out = st;
    return 0;
}

static void fx_remove(const char *path) {
    char side[300];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
}

#endif
