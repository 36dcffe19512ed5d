/* cmd_import.c — `gridplan import`: one GeoJSON file into one layer, all or nothing. */
#include "cli.h"
#include "err.h"
#include "import.h"
#include "store.h"
#include <stdio.h>
#include <unistd.h>

int cmd_import(int argc, char **argv) {
    const char *db = cli_default_db(), *layer = NULL, *crs = NULL, *map = NULL, *id_field = NULL;
    double from_population = 0, estimate_m2 = 0;
    int reject_invalid = 0, replace = 0, create = 0, max_errors = 50, first;
    const cli_opt_t opts[] = {
        {"db", 's', &db, "database file"},
        {"layer", 's', &layer, "streets|communities|grids|buildings|facilities|roads"},
        {"crs", 's', &crs, "source CRS (EPSG:4490, EPSG:4513..4554, EPSG:326zz, EPSG:3857); default: the file's crs or lon/lat"},
        {"map", 's', &map, "column=property,... for properties not named like the columns (e.g. code=NID,name=community)"},
        {"id-field", 's', &id_field, "property naming each feature in messages (and buildings'/facilities' ext_id)"},
        {"households-from-population", 'd', &from_population, "AVG: missing households = round(population / AVG)"},
        {"estimate-households", 'd', &estimate_m2, "M2: missing households = max(1, round(footprint m2 * floors / M2))"},
        {"reject-invalid", 'f', &reject_invalid, "fail on invalid geometry instead of repairing it (GEOSMakeValid)"},
        {"replace", 'f', &replace, "empty the layer first (same transaction)"},
        {"create", 'f', &create, "accepted for scripts; a missing database is always created (and removed again if the import fails)"},
        {"max-errors", 'i', &max_errors, "problem lines printed at most"},
        {0}};
    int pr = cli_parse("gridplan import --db FILE --layer LAYER [options] FILE.geojson",
                       "Imports a GeoJSON FeatureCollection into one layer. Every problem is printed as one line naming the\n"
                       "file and feature; any problem leaves the database unchanged. Properties named like the columns map\n"
                       "themselves. Shapefile/GeoPackage: convert first with ogr2ogr -f GeoJSON -t_srs EPSG:4326 out.geojson in.shp",
                       opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    if (!layer) return cli_fail("import: --layer is required (streets, communities, grids, buildings, facilities, roads)");
    if (argc - first != 1) return cli_fail("import: give exactly one GeoJSON file (see 'gridplan import --help')");
    const char *file = argv[first];
    if (from_population < 0 || estimate_m2 < 0) return cli_fail("import: derivation factors must be positive");
    store_t *st;
    char err[1024];
    (void)create;
    int existed = access(db, F_OK) == 0;
    if (store_open(db, STORE_CREATE, &st, err, sizeof err)) return cli_fail("%s", err);
    import_opts_t o = {.layer = layer, .crs = crs, .map = map, .id_field = id_field,
                       .households_from_population = from_population, .estimate_households_m2 = estimate_m2,
                       .reject_invalid = reject_invalid, .replace = replace, .max_report = max_errors};
    import_result_t r;
    int rc = import_geojson(st, file, &o, &r, stderr, err, sizeof err);
    store_close(st);
    if (rc && !existed) {
        /* The file did not exist before: an import that failed leaves nothing behind. */
        char side[4096];
        unlink(db);
        snprintf(side, sizeof side, "%s-wal", db); unlink(side);
        snprintf(side, sizeof side, "%s-shm", db); unlink(side);
    }
    if (rc) return cli_fail("%s", err);
    if (!existed) fprintf(stderr, "created %s\n", db);
    printf("%s: imported %lld %s into %s in %.2f s", file, (long long)r.inserted, layer, db, r.seconds);
    if (r.households || r.population) printf(" (households %lld, population %lld)", (long long)r.households, (long long)r.population);
    printf("\n");
    if (r.repaired) printf("repaired %lld invalid geometr%s (see notes above)\n", (long long)r.repaired, r.repaired == 1 ? "y" : "ies");
    if (r.estimated) printf("derived households for %lld features\n", (long long)r.estimated);
    if (r.buildings_assigned || r.buildings_outside)
        printf("buildings: %lld in a community, %lld outside every community\n", (long long)r.buildings_assigned,
               (long long)r.buildings_outside);
    if (r.communities_changed) printf("communities: %lld got their totals from their buildings\n", (long long)r.communities_changed);
    return 0;
}
