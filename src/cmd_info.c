/* cmd_info.c — `gridplan info`: what a database holds. */
#include "cli.h"
#include "err.h"
#include "store.h"
#include <stdio.h>
#include <unistd.h>

int cmd_info(int argc, char **argv) {
    const char *db = cli_default_db();
    int json = 0, first;
    const cli_opt_t opts[] = {{"db", 's', &db, "database file"}, {"json", 'f', &json, "print JSON"}, {0}};
    int pr = cli_parse("gridplan info [--db FILE]", "Prints counts, extent, CRS and household totals.", opts, argc,
                       argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    store_t *st;
    char err[512];
    /* Read-write when allowed, so an older schema is migrated instead of refused. */
    if (store_open(db, access(db, W_OK) == 0 ? STORE_READWRITE : STORE_READONLY, &st, err, sizeof err)) return cli_fail("%s", err);
    sqlite3_stmt *s;
    char version[16] = "?", city[128] = "", data_version[32] = "0";
    store_meta_get(st, "schema_version", version, sizeof version);
    store_meta_get(st, "data_version", data_version, sizeof data_version);
    int64_t changesets = store_count(st, "changesets"), in_force = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM changesets WHERE undone_by IS NULL", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) in_force = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    store_meta_get(st, "city", city, sizeof city);
    long long households = 0, population = 0, b_households = 0;
    double minx = 0, miny = 0, maxx = 0, maxy = 0;
    if (sqlite3_prepare_v2(st->db, "SELECT coalesce(sum(households),0), coalesce(sum(population),0) FROM communities", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) { households = sqlite3_column_int64(s, 0); population = sqlite3_column_int64(s, 1); }
        sqlite3_finalize(s);
    }
    if (sqlite3_prepare_v2(st->db, "SELECT coalesce(sum(households),0) FROM buildings", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) b_households = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    /* Extent over every layer, from the spatial indexes' own tables is not portable; use MbrMin/Max. */
    int have_extent = 0;
    for (int i = 0; store_tables[i]; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT min(MbrMinX(geom)), min(MbrMinY(geom)), max(MbrMaxX(geom)), max(MbrMaxY(geom)) FROM %s",
                 store_tables[i]);
        if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) continue;
        if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
            double a = sqlite3_column_double(s, 0), b = sqlite3_column_double(s, 1);
            double c = sqlite3_column_double(s, 2), d = sqlite3_column_double(s, 3);
            if (!have_extent || a < minx) minx = a;
            if (!have_extent || b < miny) miny = b;
            if (!have_extent || c > maxx) maxx = c;
            if (!have_extent || d > maxy) maxy = d;
            have_extent = 1;
        }
        sqlite3_finalize(s);
    }
    if (json) {
        printf("{\"database\":\"%s\",\"schema_version\":%s,\"crs\":\"EPSG:4326\",\"counts\":{", db, version);
        for (int i = 0; store_tables[i]; i++)
            printf("%s\"%s\":%lld", i ? "," : "", store_tables[i], (long long)store_count(st, store_tables[i]));
        printf("},\"households\":%lld,\"building_households\":%lld,\"population\":%lld", households, b_households, population);
        printf(",\"data_version\":%s,\"changesets\":%lld,\"changesets_in_force\":%lld", data_version, (long long)changesets,
               (long long)in_force);
        if (have_extent) printf(",\"extent\":[%.7f,%.7f,%.7f,%.7f]", minx, miny, maxx, maxy);
        printf("}\n");
    } else {
        printf("database        %s%s%s\nschema version  %s\ncrs             EPSG:4326 (lon/lat)\n", db,
               *city ? " — " : "", city, version);
        for (int i = 0; store_tables[i]; i++)
            printf("%-15s %lld\n", store_tables[i], (long long)store_count(st, store_tables[i]));
        printf("households      %lld (communities), %lld (buildings)\npopulation      %lld\n", households, b_households,
               population);
        if (have_extent) printf("extent          %.6f %.6f %.6f %.6f\n", minx, miny, maxx, maxy);
        else printf("extent          (empty)\n");
        printf("data version    %s (bumped by every import)\nchange log      %lld changesets, %lld in force\n", data_version,
               (long long)changesets, (long long)in_force);
    }
    store_close(st);
    return 0;
}
