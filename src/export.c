/* export.c — feature tables out as GeoJSON or CSV, streamed row by row.
 *
 * One SELECT over the table in fid order; each row is formatted into a reused buffer and written, so
 * memory stays flat whatever the table's size. Columns come from PRAGMA table_info, so a column added
 * by a later migration is exported without touching this file. */
#include "export.h"
#include "buf.h"
#include "err.h"
#include "geo.h"
#include <stdlib.h>
#include <string.h>

int export_format(const char *name) {
    if (name && !strcmp(name, "geojson")) return EXPORT_GEOJSON;
    if (name && !strcmp(name, "csv")) return EXPORT_CSV;
    return GP_EINVAL;
}

/* Appends s as one CSV field, quoted only when it must be (RFC 4180). */
static void export_csv_field(buf_t *b, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        buf_puts(b, s);
        return;
    }
    buf_append(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"') buf_append(b, "\"", 1);
        buf_append(b, p, 1);
    }
    buf_append(b, "\"", 1);
}

static int export_db_error(store_t *st, char *err, size_t errlen) {
    return err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
}

int export_layer(store_t *st, const char *layer, int format, FILE *out, int64_t *count, char *err, size_t errlen) {
    if (count) *count = 0;
    if (!layer || !store_geometry_type(layer))
        return err_set(err, errlen, GP_EINVAL, "unknown layer '%s' (streets, communities, grids, buildings, facilities, roads)",
                       layer ? layer : "");
    if (format != EXPORT_GEOJSON && format != EXPORT_CSV) return err_set(err, errlen, GP_EINVAL, "unknown export format");
    buf_t sql = {0}, row = {0};
    sqlite3_stmt *s = NULL;
    GEOSContextHandle_t g = geo_ctx_new();
    int rc = GP_OK, ncols = 0;
    int64_t n = 0;
    if (!g) return err_set(err, errlen, GP_ENOMEM, "cannot create a GEOS context");

    /* Column names: everything but geom, geometry last as WKB. */
    char pragma[96];
    snprintf(pragma, sizeof pragma, "PRAGMA table_info(%s)", layer);
    if (sqlite3_prepare_v2(st->db, pragma, -1, &s, NULL) != SQLITE_OK) {
        rc = export_db_error(st, err, errlen);
        goto end;
    }
    buf_puts(&sql, "SELECT ");
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *col = (const char *)sqlite3_column_text(s, 1);
        if (strcmp(col, "geom")) buf_printf(&sql, "\"%s\", ", col), ncols++;
    }
    sqlite3_finalize(s);
    s = NULL;
    buf_printf(&sql, "AsBinary(geom) FROM %s ORDER BY fid", layer);
    if (sqlite3_prepare_v2(st->db, sql.data, -1, &s, NULL) != SQLITE_OK) {
        rc = export_db_error(st, err, errlen);
        goto end;
    }

    if (format == EXPORT_GEOJSON) {
        buf_printf(&row, "{\"type\":\"FeatureCollection\",\"name\":\"%s\",\"features\":[\n", layer);
    } else {
        buf_puts(&row, "\xEF\xBB\xBF");
        for (int i = 0; i < ncols; i++) buf_printf(&row, "%s,", sqlite3_column_name(s, i));
        buf_puts(&row, "lon,lat\r\n");
    }
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        const void *wkb = sqlite3_column_blob(s, ncols);
        GEOSGeometry *geom = wkb ? geo_from_wkb(g, wkb, (size_t)sqlite3_column_bytes(s, ncols)) : NULL;
        if (wkb && !geom) {
            rc = err_set(err, errlen, GP_EGEOM, "%s: %s fid %lld: unreadable geometry", st->path, layer,
                         (long long)sqlite3_column_int64(s, 0));
            goto end;
        }
        if (format == EXPORT_GEOJSON) {
            buf_printf(&row, "%s{\"type\":\"Feature\",\"id\":%lld,\"properties\":{", n ? ",\n" : "",
                       (long long)sqlite3_column_int64(s, 0));
            for (int i = 0; i < ncols; i++) {
                if (i) buf_append(&row, ",", 1);
                buf_json_string(&row, sqlite3_column_name(s, i));
                buf_append(&row, ":", 1);
                switch (sqlite3_column_type(s, i)) {
                case SQLITE_NULL: buf_puts(&row, "null"); break;
                case SQLITE_INTEGER: buf_printf(&row, "%lld", (long long)sqlite3_column_int64(s, i)); break;
                case SQLITE_FLOAT: buf_double(&row, sqlite3_column_double(s, i), 9); break;
                default: buf_json_string(&row, (const char *)sqlite3_column_text(s, i)); break;
                }
            }
            buf_puts(&row, "},\"geometry\":");
            if (geom) geo_to_geojson(g, geom, 7, &row);
            else buf_puts(&row, "null");
            buf_append(&row, "}", 1);
        } else {
            for (int i = 0; i < ncols; i++) {
                if (sqlite3_column_type(s, i) != SQLITE_NULL) export_csv_field(&row, (const char *)sqlite3_column_text(s, i));
                buf_append(&row, ",", 1);
            }
            GEOSGeometry *pt = geom ? (GEOSGeomTypeId_r(g, geom) == GEOS_POINT ? GEOSGeom_clone_r(g, geom)
                                                                                 : GEOSPointOnSurface_r(g, geom))
                                    : NULL;
            double x, y;
            if (pt && !GEOSisEmpty_r(g, pt) && GEOSGeomGetX_r(g, pt, &x) == 1 && GEOSGeomGetY_r(g, pt, &y) == 1) {
                buf_double(&row, x, 7);
                buf_append(&row, ",", 1);
                buf_double(&row, y, 7);
            } else {
                buf_append(&row, ",", 1);
            }
            if (pt) GEOSGeom_destroy_r(g, pt);
            buf_puts(&row, "\r\n");
        }
        if (geom) GEOSGeom_destroy_r(g, geom);
        n++;
        if (fwrite(row.data, 1, row.len, out) != row.len) {
            rc = err_set(err, errlen, GP_EIO, "writing %s failed", layer);
            goto end;
        }
        buf_reset(&row);
    }
    if (step != SQLITE_DONE) {
        rc = export_db_error(st, err, errlen);
        goto end;
    }
    if (format == EXPORT_GEOJSON) buf_puts(&row, "\n]}\n");
    if (row.len && fwrite(row.data, 1, row.len, out) != row.len) rc = err_set(err, errlen, GP_EIO, "writing %s failed", layer);
    if (!rc && fflush(out)) rc = err_set(err, errlen, GP_EIO, "writing %s failed", layer);
    if (count) *count = n;
end:
    sqlite3_finalize(s);
    buf_free(&sql);
    buf_free(&row);
    geo_ctx_free(g);
    return rc;
}
