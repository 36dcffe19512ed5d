/* srs.c — PROJ transforms with GIS axis order, UTM zone choice, CRS name normalisation. */
#include "srs.h"
#include "err.h"
#include <math.h>
#include <proj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct srs {
    PJ_CONTEXT *ctx;
    PJ *pj;
};

srs_t *srs_new(const char *from, const char *to, char *err, size_t errlen) {
    srs_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->ctx = proj_context_create();
    proj_log_level(s->ctx, PJ_LOG_NONE);
    /* Validate each side on its own so the error names the CRS at fault. */
    const char *sides[2] = {from, to};
    for (int i = 0; i < 2; i++) {
        PJ *crs = proj_create(s->ctx, sides[i]);
        if (!crs) {
            err_set(err, errlen, GP_EINVAL, "unknown CRS '%s'", sides[i]);
            srs_free(s);
            return NULL;
        }
        proj_destroy(crs);
    }
    PJ *raw = proj_create_crs_to_crs(s->ctx, from, to, NULL);
    if (!raw) {
        err_set(err, errlen, GP_EINVAL, "no transformation from %s to %s", from, to);
        srs_free(s);
        return NULL;
    }
    s->pj = proj_normalize_for_visualization(s->ctx, raw);
    proj_destroy(raw);
    if (!s->pj) {
        err_set(err, errlen, GP_EINVAL, "cannot normalise axis order for %s -> %s", from, to);
        srs_free(s);
        return NULL;
    }
    return s;
}

void srs_free(srs_t *s) {
    if (!s) return;
    if (s->pj) proj_destroy(s->pj);
    if (s->ctx) proj_context_destroy(s->ctx);
    free(s);
}

int srs_xy(srs_t *s, double *x, double *y) {
    PJ_COORD c = proj_coord(*x, *y, 0, 0);
    PJ_COORD r = proj_trans(s->pj, PJ_FWD, c);
    if (!isfinite(r.xy.x) || !isfinite(r.xy.y)) return GP_EGEOM;
    *x = r.xy.x;
    *y = r.xy.y;
    return GP_OK;
}

static int srs_xy_cb(void *user, double *x, double *y) { return srs_xy(user, x, y); }

GEOSGeometry *srs_transform(GEOSContextHandle_t gctx, srs_t *s, const GEOSGeometry *geom, char *err, size_t errlen) {
    GEOSGeometry *out = geo_map_coords(gctx, geom, srs_xy_cb, s);
    if (!out) err_set(err, errlen, GP_EGEOM, "coordinates outside the CRS's area of use");
    return out;
}

int srs_utm_epsg(double lon, double lat) {
    int zone = (int)((lon + 180.0) / 6.0) + 1;
    if (zone < 1) zone = 1;
    if (zone > 60) zone = 60;
    return (lat >= 0 ? 32600 : 32700) + zone;
}

int srs_normalize_name(const char *crs, char *out, size_t outlen) {
    if (!crs || !*crs) return GP_EINVAL;
    const char *p;
    if (!strcasecmp(crs, "OGC:CRS84") || strstr(crs, "CRS84")) {
        snprintf(out, outlen, "OGC:CRS84");
        return GP_OK;
    }
    if ((p = strstr(crs, "EPSG::")) != NULL) p += 6;          /* urn:ogc:def:crs:EPSG::4490 */
    else if ((p = strstr(crs, "EPSG/0/")) != NULL) p += 7;    /* http://www.opengis.net/def/crs/EPSG/0/4490 */
    else if (!strncasecmp(crs, "EPSG:", 5)) p = crs + 5;
    else {
        snprintf(out, outlen, "%s", crs);
        return GP_OK;
    }
    char *end;
    long code = strtol(p, &end, 10);
    if (end == p || code <= 0) return GP_EINVAL;
    snprintf(out, outlen, "EPSG:%ld", code);
    return GP_OK;
}

int srs_is_lonlat(const char *crs) {
    char n[64];
    if (srs_normalize_name(crs, n, sizeof n)) return 0;
    return !strcmp(n, "EPSG:4326") || !strcmp(n, "EPSG:4490") || !strcmp(n, "OGC:CRS84");
}
