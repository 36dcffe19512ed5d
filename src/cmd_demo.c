/* cmd_demo.c — `gridplan demo`: writes the demo city as GeoJSON layers and, with --db, imports them. */
#include "cli.h"
#include "demo.h"
#include "err.h"
#include "import.h"
#include "log.h"
#include "store.h"
#include <stdio.h>
#include <unistd.h>

/* Imports the five layers from dir into a new database at db. The database is built under a
 * temporary name and renamed at the end, so a failure never leaves a half-made city behind. */
static int demo_import(const char *dir, const char *db, char *err, size_t errlen) {
    static const char *const layers[] = {"streets", "communities", "buildings", "facilities", "roads", NULL};
    char tmp[4096], side[4200], file[4096];
    snprintf(tmp, sizeof tmp, "%s.partial", db);
    unlink(tmp);
    store_t *st = NULL;
    int rc = store_open(tmp, STORE_CREATE, &st, err, errlen);
    for (int i = 0; !rc && layers[i]; i++) {
        import_opts_t o = {0};
        import_result_t res;
        o.layer = layers[i];
        snprintf(file, sizeof file, "%s/%s.geojson", dir, layers[i]);
        rc = import_geojson(st, file, &o, &res, stderr, err, errlen);
    }
    /* The city's own facts, read by `gridplan info`, the rule-aware layers and the planner. */
    if (!rc) rc = store_meta_set(st, "city", "演示市 (gridplan demo city)", err, errlen);
    if (!rc) rc = store_meta_set(st, "county_code", DEMO_COUNTY_CODE, err, errlen);
    if (!rc) rc = store_meta_set(st, "profile", "demo", err, errlen);
    if (!rc) rc = store_exec(st, "PRAGMA wal_checkpoint(TRUNCATE)", err, errlen);
    store_close(st);
    if (!rc && rename(tmp, db) != 0) rc = err_set(err, errlen, GP_EIO, "%s: cannot rename from %s", db, tmp);
    if (rc) unlink(tmp);
    snprintf(side, sizeof side, "%s-wal", tmp); unlink(side);
    snprintf(side, sizeof side, "%s-shm", tmp); unlink(side);
    return rc;
}

int cmd_demo(int argc, char **argv) {
    const char *out = "geodata/demo";
    double scale = 1.0;
    long long seed = (long long)DEMO_DEFAULT_SEED;
    const char *db = NULL;
    int first;
    const cli_opt_t opts[] = {{"out", 's', &out, "directory for the five .geojson layers"},
                              {"db", 's', &db, "also import the layers into this new database (replaced if it exists)"},
                              {"scale", 'd', &scale, "multiplies communities, buildings, households, facilities"},
                              {"seed", 'l', &seed, "another seed gives another city"},
                              {0}};
    int pr = cli_parse("gridplan demo [--out DIR] [--db FILE] [--scale S] [--seed N]",
                       "Generates the demo city (about 30 km x 30 km near Hohhot, county 150102): streets, "
                       "communities, buildings, facilities and roads as GeoJSON. Same seed and scale, same bytes.",
                       opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    if (first < argc) return cli_fail("demo: unexpected argument '%s'", argv[first]);
    demo_options_t o = {scale, (uint64_t)seed};
    demo_summary_t s;
    char err[512];
    if (demo_generate(&o, out, &s, err, sizeof err)) return cli_fail("%s", err);
    log_info("demo city written to %s/ in %.1fs (scale %g, seed %lld)", out, s.seconds, scale, seed);
    log_info("  streets %lld, communities %lld (%lld over 4,000 households, %lld over 7,000, %lld under 1,000)",
             s.streets, s.communities, s.communities_over_4000, s.communities_over_7000, s.communities_under_1000);
    log_info("  buildings %lld, households %lld, population %lld", s.buildings, s.households, s.population);
    log_info("  facilities %lld, roads %lld, blocks %lld, community vertices mean %.0f max %lld", s.facilities,
             s.roads, s.blocks, s.community_vertices_mean, s.community_vertices_max);
    log_info("  extent %.5f %.5f %.5f %.5f (%.1f km x %.1f km, %.0f km2)", s.minx, s.miny, s.maxx, s.maxy,
             s.width_km, s.height_km, s.area_km2);
    if (db) {
        double t0 = log_now();
        if (demo_import(out, db, err, sizeof err)) return cli_fail("%s", err);
        log_info("demo city imported into %s in %.1fs (profile demo: hohhot-2023 sizes, ningxia-2020 police)", db, log_now() - t0);
    }
    return 0;
}
