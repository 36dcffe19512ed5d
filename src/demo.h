/* demo.h — the demo city: a deterministic generator of a realistic fictional Chinese city.
 *
 * The city sits at real coordinates in northern China (centred near 111.70E 40.82N, county code
 * 150102) and spans about 30 km x 30 km inside an irregular outline. It is built from a few thousand
 * small Voronoi blocks; communities (社区) are grown from blocks, streets (街道) from communities, so
 * shapes are concave and irregular while communities tile streets and streets tile the city exactly
 * (shared boundaries have identical vertices). Block edges make the road network. Everything is
 * rounded to 1e-7 degree before any union, so the written GeoJSON is exactly what was checked.
 *
 * At scale 1: ~450 communities under ~30 streets, ~120,000 building points holding ~1.2 million
 * households, ~2,000 facilities of the 11 service types, ~10,000 road polylines. --scale S multiplies
 * communities, buildings, households and facilities by S inside the same outline. The same seed and
 * scale give byte-identical files (xoshiro256** seeded by splitmix64; no rand(), no clocks). */
#ifndef GP_DEMO_H
#define GP_DEMO_H
#include <stddef.h>
#include <stdint.h>

#define DEMO_DEFAULT_SEED 20261122ULL
#define DEMO_COUNTY_CODE "150102"
#define DEMO_MIN_SCALE 0.02
#define DEMO_MAX_SCALE 20.0

typedef struct demo_options {
    double scale;     /* multiplies communities, buildings, households, facilities; 1 = ~450 communities */
    uint64_t seed;    /* DEMO_DEFAULT_SEED unless the user asks for another city */
} demo_options_t;

/* What was generated (filled by demo_generate). Extent is lon/lat. */
typedef struct demo_summary {
    long long streets, communities, blocks, buildings, facilities, roads;
    long long households, population;
    long long communities_over_4000, communities_over_7000, communities_under_1000;
    long long community_vertices_max;     /* largest vertex count of one community polygon */
    double community_vertices_mean;
    double minx, miny, maxx, maxy;
    double width_km, height_km, area_km2;
    double seconds;
} demo_summary_t;

/* The service types the generator places (ids used in facilities.type), NULL-terminated, and the
 * Chinese label of each (same order). */
extern const char *const demo_facility_types[];
extern const char *const demo_facility_labels[];

/* Sets scale 1 and DEMO_DEFAULT_SEED. */
void demo_options_default(demo_options_t *opts);

/* Generates the city and writes dir/streets.geojson, communities.geojson, buildings.geojson,
 * facilities.geojson and roads.geojson (RFC 7946 FeatureCollections, lon/lat, 7 decimals, exterior
 * rings counter-clockwise; property names are the columns of store.h). Creates dir (and parents) if
 * missing and overwrites the files. Prints progress for the long steps through log.h.
 * Returns 0 and fills *summary (may be NULL), or GP_EINVAL for a scale outside
 * [DEMO_MIN_SCALE, DEMO_MAX_SCALE], GP_EIO when a file cannot be written, GP_EGEOM when GEOS fails,
 * GP_ENOMEM; err names the problem. Single-threaded; uses its own GEOS context. */
int demo_generate(const demo_options_t *opts, const char *dir, demo_summary_t *summary, char *err, size_t errlen);

#endif
