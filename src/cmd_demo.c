/* cmd_demo.c — `gridplan demo`: writes the demo city as GeoJSON layers for `gridplan import`. */
#include "cli.h"
#include "demo.h"
#include "log.h"
#include <stdio.h>

int cmd_demo(int argc, char **argv) {
    const char *out = "geodata/demo";
    double scale = 1.0;
    long long seed = (long long)DEMO_DEFAULT_SEED;
    int first;
    const cli_opt_t opts[] = {{"out", 's', &out, "directory for the five .geojson layers"},
                              {"scale", 'd', &scale, "multiplies communities, buildings, households, facilities"},
                              {"seed", 'l', &seed, "another seed gives another city"},
                              {0}};
    int pr = cli_parse("gridplan demo [--out DIR] [--scale S] [--seed N]",
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
    return 0;
}
