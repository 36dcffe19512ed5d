/* circles.h — service circles: their definitions from the rule profile, the dataset they are drawn
 * on (facilities, buildings, communities, grids, roads projected once into a metric CRS), and the
 * circle geometries per facility, dissolved per circle type, and per community.
 *
 * Straight-line circles are buffers of radius_m around each facility; network circles follow the
 * roads (roadnet.h): the walking budget is minutes × walk_m_per_min (radius_m when no speed is
 * given), the area is the reached roads buffered by network_buffer_m. Everything is computed in the
 * dataset's UTM zone and returned in lon/lat (EPSG:4326). */
#ifndef GP_CIRCLES_H
#define GP_CIRCLES_H
#include "buf.h"
#include "geo.h"
#include "roadnet.h"
#include "srs.h"
#include <jansson.h>
#include <stdint.h>

struct store;

/* ---- Definitions ------------------------------------------------------------------------------ */
typedef struct circles_def {
    char id[32];                /* life_15min, daily_10min, ... */
    char label[128];            /* UTF-8, e.g. "15分钟生活圈" */
    char **facility_types;      /* a facility of any of these types serves the circle */
    int n_types;
    double radius_m;            /* straight-line radius (GB 50180-2018 figure) */
    double minutes;             /* 0 when not given */
    double walk_m_per_min;      /* 0 when not given */
    int required;               /* counts for the "complete life circle" check */
    int match_all;              /* 1 ("match": "all", the default): a building is inside the circle
                                 * only when a facility of every type reaches it; 0 ("any"): one of
                                 * any type is enough */
} circles_def_t;

typedef struct circles_defs {
    circles_def_t *defs;
    int n;
    double network_buffer_m;    /* reached roads are buffered by this much */
} circles_defs_t;

/* Parses the profile's "circles" object and "network_buffer_m" (siblings in the profile root; a
 * bare "circles" object is accepted too). Every number may be bare or {"value": N, "source": S}.
 * Returns 0 and *out (free with circles_defs_free), or GP_EINVAL naming the circle and field at fault. */
int circles_defs_parse(const json_t *profile, circles_defs_t **out, char *err, size_t errlen);
/* The built-in GB 50180-2018 defaults (the same numbers as docs/rules.md). Caller frees. NULL on ENOMEM. */
circles_defs_t *circles_defs_default(void);
void circles_defs_free(circles_defs_t *defs);   /* accepts NULL */
/* Applies comma-separated overrides "<circle>.<field>=<value>" (fields radius_m, minutes,
 * walk_m_per_min, required_for_life_circle=true|false, facility_types=a|b) and "network_buffer_m=N".
 * Returns 0, GP_ENOTFOUND for an unknown circle, GP_EINVAL naming the bad item. */
int circles_defs_set(circles_defs_t *defs, const char *overrides, char *err, size_t errlen);
const circles_def_t *circles_defs_find(const circles_defs_t *defs, const char *id);
int circles_def_has_type(const circles_def_t *def, const char *type);
/* Whether a facility of facility_type serves def, restricted to only_type when it is not NULL. */
int circles_def_serves(const circles_def_t *def, const char *only_type, const char *facility_type);
/* Walking distance budget over the network: minutes × speed when both are given, else radius_m. */
double circles_def_budget_m(const circles_def_t *def);

/* ---- Dataset ---------------------------------------------------------------------------------- */
typedef enum { CIRCLES_STRAIGHT = 0, CIRCLES_NETWORK = 1 } circles_mode_t;
const char *circles_mode_name(circles_mode_t mode);   /* "straight" or "network" */

typedef struct circles_facility {
    int64_t fid;
    char type[32];
    char *name;
    double lon, lat, x, y;      /* x, y: metric */
} circles_facility_t;

typedef struct circles_building {
    int64_t fid;
    double lon, lat, x, y;      /* a point on the building (footprints: point on surface) */
    int64_t households, population, elderly_alone, disabled, low_income;
    int community, grid;        /* index into communities / grids, -1 when outside all */
    char community_code[32], grid_code[32];   /* as stored; after circles_data_finish, of the index */
} circles_building_t;

typedef struct circles_area {
    char code[32];
    char *name;
    GEOSGeometry *geom;         /* metric */
    double minx, miny, maxx, maxy;
} circles_area_t;

typedef struct circles_data {
    int epsg;                   /* the metric CRS (UTM zone at the data's centre) */
    srs_t *to_metric, *to_lonlat;
    circles_facility_t *facilities; int n_facilities, cap_facilities;
    circles_building_t *buildings; int n_buildings, cap_buildings;
    circles_area_t *communities; int n_communities, cap_communities;
    circles_area_t *grids; int n_grids, cap_grids;
    GEOSGeometry **roads; int n_roads, cap_roads;   /* metric lines */
    roadnet_t *net;             /* built by circles_data_network */
    double snap_max_m;          /* facility farther than this from a road is off the network (500) */
    int node_crossings;         /* roadnet_build option (0: junctions are shared vertices, OSM style) */
} circles_data_t;

/* An empty dataset whose metric CRS is the UTM zone at (lon0, lat0). Returns 0 and *out (free with
 * circles_data_free), GP_EGEOM when PROJ cannot make the transform. */
int circles_data_new(double lon0, double lat0, circles_data_t **out, char *err, size_t errlen);
void circles_data_free(GEOSContextHandle_t gctx, circles_data_t *d);   /* accepts NULL */

/* Adders take lon/lat input and copy what they keep. community/grid codes may be NULL or "":
 * circles_data_finish then places the building by point-in-polygon. Return 0 or a negative code. */
int circles_data_add_facility(circles_data_t *d, int64_t fid, const char *type, const char *name, double lon, double lat);
int circles_data_add_building(GEOSContextHandle_t gctx, circles_data_t *d, int64_t fid, const GEOSGeometry *geom,
                              const int64_t counts[5], const char *community_code, const char *grid_code);
int circles_data_add_area(GEOSContextHandle_t gctx, circles_data_t *d, int is_grid, const char *code, const char *name,
                          const GEOSGeometry *geom, char *err, size_t errlen);
int circles_data_add_road(GEOSContextHandle_t gctx, circles_data_t *d, const GEOSGeometry *geom);
/* Resolves building -> community/grid links after everything was added: a building's stored code
 * wins when it names a loaded area, otherwise the area containing its point is used. */
int circles_data_finish(GEOSContextHandle_t gctx, circles_data_t *d, char *err, size_t errlen);
/* Builds the road graph once (no-op when built). GP_ENOTFOUND when the dataset has no roads. */
int circles_data_network(GEOSContextHandle_t gctx, circles_data_t *d, char *err, size_t errlen);

/* Reads a gridplan database (facilities, buildings, communities, grids, roads) into a new dataset
 * and finishes it. GP_ENOTFOUND when it holds neither buildings nor facilities. */
int circles_data_load(GEOSContextHandle_t gctx, struct store *st, circles_data_t **out, char *err, size_t errlen);

/* The data's version stamp "<meta data_version>:<newest changes.id>": a cache of circles or coverage
 * is valid while the stamp is unchanged (imports bump data_version, edits add changes). */
int circles_store_stamp(struct store *st, char *out, size_t outlen);

/* Reads GeoJSON FeatureCollections (lon/lat), any path may be NULL: facilities (Point; "type", or
 * an OSM "category" mapped by circles_osm_type; others are skipped and counted in *skipped),
 * buildings (Point or footprint; households default 1, population, elderly_alone, disabled,
 * low_income, community_code, grid_code), communities and grids ("code", "name"), roads (lines).
 * "fid" (facilities also "osm_id") or the feature's 1-based position is the id. */
enum { CIRCLES_LAYER_FACILITIES, CIRCLES_LAYER_BUILDINGS, CIRCLES_LAYER_COMMUNITIES, CIRCLES_LAYER_GRIDS,
       CIRCLES_LAYER_ROADS, CIRCLES_N_LAYERS };
int circles_data_load_geojson(GEOSContextHandle_t gctx, const char *const paths[CIRCLES_N_LAYERS], circles_data_t **out,
                              int *skipped, char *err, size_t errlen);

/* ---- Circles ---------------------------------------------------------------------------------- */
/* Network reach of the facilities of def (of type only_type when not NULL; just facility index
 * `facility` when >= 0), after circles_data_network. Caller frees *out with roadnet_reach_free.
 * *unsnapped counts facilities farther than snap_max_m from any road (may be NULL). */
int circles_network_reach(circles_data_t *d, const circles_def_t *def, int facility, const char *only_type,
                          roadnet_reach_t **out, int *unsnapped);

/* The circle of one facility (index into d->facilities) or, with facility < 0, the dissolved
 * circle of def's facilities (match "all": the intersection over its types of each type's union;
 * "any": the union of all), in the metric CRS (metric != 0) or lon/lat. buffer_m is
 * the width around reached roads (network mode; defs->network_buffer_m). May be an empty polygon.
 * Caller frees; NULL with err on failure (network mode without roads: GP_ENOTFOUND's sentence). */
GEOSGeometry *circles_area(GEOSContextHandle_t gctx, circles_data_t *d, const circles_def_t *def, int facility,
                           circles_mode_t mode, double buffer_m, int metric, char *err, size_t errlen);

enum { CIRCLES_PER_FACILITY = 0, CIRCLES_PER_TYPE = 1, CIRCLES_PER_COMMUNITY = 2 };
/* Appends a GeoJSON FeatureCollection of circles (lon/lat, 7 decimals): for each def (or only the
 * one named only_id when not NULL) one feature per facility, one dissolved feature per def, or one
 * per def and community (the dissolved circle clipped to the community). Properties: circle, label,
 * mode, radius_m / budget_m, facilities, area_m2 (+ facility_fid, facility_type, facility_name or
 * community_code). The collection carries "mode". GP_ENOTFOUND for an unknown only_id. */
int circles_geojson(GEOSContextHandle_t gctx, circles_data_t *d, const circles_defs_t *defs, const char *only_id,
                    circles_mode_t mode, int per, buf_t *out, char *err, size_t errlen);

/* The definitions of a rule profile (rules_load: a name such as "national", or a JSON file; NULL
 * for the default profile), inheritance applied, from its "circles" section. With profile NULL and
 * no profile found, or a profile without circles, the built-in defaults. source (may be NULL) says
 * which. Returns 0 and *out (circles_defs_free), or the profile's load/parse error. */
int circles_defs_load(const char *profile, circles_defs_t **out, char *source, size_t sourcelen, char *err, size_t errlen);
/* The same for a database: the profile named by its meta "profile", else the default. */
int circles_defs_for_store(struct store *st, circles_defs_t **out, char *source, size_t sourcelen, char *err, size_t errlen);

/* The tile renderer's circles layer: one dissolved lon/lat (Multi)Polygon per circle with sites,
 * as WKB, with the circle id as its type (render_scene_with_circles takes
 * exactly these arrays). types point into defs, which must outlive the layer. */
typedef struct circles_layer {
    size_t n;
    unsigned char **wkb;
    size_t *wkb_len;
    const char **types;
} circles_layer_t;
int circles_layer_wkb(GEOSContextHandle_t gctx, circles_data_t *d, const circles_defs_t *defs, circles_mode_t mode,
                      circles_layer_t *layer, char *err, size_t errlen);
void circles_layer_free(circles_layer_t *layer);   /* accepts NULL; frees the arrays, not the struct */

/* Maps an OSM "key=value" category (facilities_points.geojson) to a facility type id, or NULL:
 * amenity=school -> school, shop=supermarket|convenience -> supermarket, amenity=clinic|doctors,
 * healthcare=clinic -> clinic, amenity=pharmacy -> pharmacy, amenity=kindergarten -> kindergarten,
 * amenity=community_centre -> community_service, amenity=social_facility -> elder_care,
 * amenity=fire_station -> fire_station, amenity=police -> police, leisure=fitness_centre|sports_centre
 * -> fitness, amenity=library|arts_centre -> culture, amenity=hospital -> clinic. */
const char *circles_osm_type(const char *category);

#endif
