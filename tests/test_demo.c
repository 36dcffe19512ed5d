/* test_demo.c — the demo city generator: determinism, counts, distribution, codes, topology. */
#include "demo.h"
#include "err.h"
#include "geo.h"
#include "log.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const layers[] = {"streets", "communities", "buildings", "facilities", "roads"};

/* Generates a city into a fresh temporary directory (the caller removes it with rm_dir). */
static char *generate(double scale, uint64_t seed, demo_summary_t *summary) {
    char tmpl[] = "/tmp/gp_demo_XXXXXX";
    char *dir = mkdtemp(tmpl);
    cr_assert_not_null(dir);
    demo_options_t o = {scale, seed};
    char err[512] = "";
    log_set_level(LOG_WARN);
    int rc = demo_generate(&o, dir, summary, err, sizeof err);
    cr_assert_eq(rc, 0, "demo_generate: %s", err);
    return strdup(dir);
}

static void rm_dir(char *dir) {
    char path[512];
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.geojson", dir, layers[i]);
        remove(path);
    }
    rmdir(dir);
    free(dir);
}

static uint64_t file_hash(const char *dir, const char *layer, long *size) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.geojson", dir, layer);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    uint64_t h = 1469598103934665603ULL;
    int ch;
    *size = 0;
    while ((ch = fgetc(f)) != EOF) h = (h ^ (unsigned char)ch) * 1099511628211ULL, (*size)++;
    fclose(f);
    return h;
}

static json_t *load(const char *dir, const char *layer) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.geojson", dir, layer);
    json_error_t jerr;
    json_t *fc = json_load_file(path, 0, &jerr);
    cr_assert_not_null(fc, "%s: %s (line %d)", path, jerr.text, jerr.line);
    cr_assert_str_eq(json_string_value(json_object_get(fc, "type")), "FeatureCollection");
    return fc;
}

static json_t *features(json_t *fc) { return json_object_get(fc, "features"); }
static json_t *prop(json_t *feature, const char *key) { return json_object_get(json_object_get(feature, "properties"), key); }
static const char *sprop(json_t *feature, const char *key) { return json_string_value(prop(feature, key)); }
static long long iprop(json_t *feature, const char *key) { return json_integer_value(prop(feature, key)); }

static GEOSGeometry *geometry(GEOSContextHandle_t g, json_t *feature) {
    char err[256] = "";
    GEOSGeometry *geom = geo_from_geojson(g, json_object_get(feature, "geometry"), err, sizeof err);
    cr_assert_not_null(geom, "bad geometry: %s", err);
    return geom;
}

static int all_digits(const char *s, size_t n) {
    if (!s || strlen(s) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a > b && !strcmp(s + a - b, suffix);
}

/* Same seed and scale give byte-identical files; another seed gives another city. */
Test(demo, deterministic) {
    char *a = generate(0.1, DEMO_DEFAULT_SEED, NULL), *b = generate(0.1, DEMO_DEFAULT_SEED, NULL);
    char *other = generate(0.1, 7, NULL);
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        long sa, sb, so;
        uint64_t ha = file_hash(a, layers[i], &sa), hb = file_hash(b, layers[i], &sb);
        uint64_t ho = file_hash(other, layers[i], &so);
        cr_expect_gt(sa, 100, "%s is empty", layers[i]);
        cr_expect_eq(sa, sb, "%s: sizes differ", layers[i]);
        cr_expect_eq(ha, hb, "%s: contents differ between two runs", layers[i]);
        cr_expect_neq(ha, ho, "%s: seed 7 gave the same file", layers[i]);
    }
    rm_dir(a), rm_dir(b), rm_dir(other);
}

Test(demo, rejects_bad_scale) {
    demo_options_t o = {0.0, 1};
    char err[256] = "";
    cr_assert_eq(demo_generate(&o, "/tmp/gp_demo_never", NULL, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "scale"), "error does not name the scale: %s", err);
    o.scale = 1000;
    cr_assert_eq(demo_generate(&o, "/tmp/gp_demo_never", NULL, err, sizeof err), GP_EINVAL);
}

/* Scale 1: the numbers the brief promises, read back from the files. */
Test(demo, full_scale_counts) {
    demo_summary_t s;
    char *dir = generate(1.0, DEMO_DEFAULT_SEED, &s);
    json_t *streets = load(dir, "streets"), *comms = load(dir, "communities");
    json_t *blds = load(dir, "buildings"), *facs = load(dir, "facilities"), *roads = load(dir, "roads");
    size_t nstreets = json_array_size(features(streets)), ncomm = json_array_size(features(comms));
    size_t nbld = json_array_size(features(blds));
    cr_expect(nstreets >= 25 && nstreets <= 35, "streets: %zu", nstreets);
    cr_expect(ncomm >= 400 && ncomm <= 500, "communities: %zu", ncomm);
    cr_expect(nbld >= 108000 && nbld <= 132000, "buildings: %zu", nbld);
    cr_expect_eq((long long)nbld, s.buildings);
    long long households = 0, over_4000 = 0, over_7000 = 0, under_1000 = 0, within = 0, building_households = 0;
    size_t i;
    json_t *f;
    json_array_foreach(features(comms), i, f) {
        long long h = iprop(f, "households");
        households += h;
        over_4000 += h > 4000, over_7000 += h > 7000, under_1000 += h < 1000, within += h >= 1000 && h <= 3000;
        cr_expect_gt(iprop(f, "population"), 2 * h, "population of %s", sprop(f, "code"));
    }
    json_array_foreach(features(blds), i, f) building_households += iprop(f, "households");
    cr_expect(households >= 1080000 && households <= 1320000, "households: %lld", households);
    cr_expect_eq(households, building_households, "communities and buildings disagree");
    cr_expect(over_4000 >= 0.05 * ncomm && over_4000 <= 0.12 * ncomm, "over 4,000: %lld", over_4000);
    cr_expect(over_7000 >= 0.015 * ncomm && over_7000 <= 0.05 * ncomm, "over 7,000: %lld", over_7000);
    cr_expect(under_1000 >= 0.06 * ncomm && under_1000 <= 0.15 * ncomm, "under 1,000: %lld", under_1000);
    cr_expect(within >= 0.5 * ncomm, "1,000-3,000: %lld of %zu", within, ncomm);
    size_t nfac = json_array_size(features(facs));
    cr_expect(nfac >= 1800 && nfac <= 2200, "facilities: %zu", nfac);
    cr_expect(json_array_size(features(roads)) > 1000, "roads: %zu", json_array_size(features(roads)));
    /* About 30 km x 30 km at 40.8N. */
    cr_expect(s.width_km > 25 && s.width_km < 36, "width %.1f km", s.width_km);
    cr_expect(s.height_km > 25 && s.height_km < 36, "height %.1f km", s.height_km);
    cr_expect(s.minx > 111.4 && s.maxx < 112.0 && s.miny > 40.6 && s.maxy < 41.1, "extent");
    cr_expect(s.community_vertices_max <= 150, "a community has %lld vertices", s.community_vertices_max);
    json_decref(streets), json_decref(comms), json_decref(blds), json_decref(facs), json_decref(roads);
    rm_dir(dir);
}

/* Codes: county 6 -> street 9 -> community 12 digits, prefixes match, unique; Chinese names. */
Test(demo, codes_and_names) {
    char *dir = generate(0.3, DEMO_DEFAULT_SEED, NULL);
    json_t *streets = load(dir, "streets"), *comms = load(dir, "communities"), *roads = load(dir, "roads");
    size_t i, j;
    json_t *f, *h;
    json_array_foreach(features(streets), i, f) {
        const char *code = sprop(f, "code");
        cr_expect(all_digits(code, 9), "street code %s", code);
        cr_expect_str_eq(sprop(f, "county_code"), DEMO_COUNTY_CODE);
        cr_expect(!strncmp(code, DEMO_COUNTY_CODE, 6), "street %s not in the county", code);
        cr_expect(ends_with(sprop(f, "name"), "街道"), "street name %s", sprop(f, "name"));
        json_array_foreach(features(streets), j, h) if (j > i) cr_expect_str_neq(code, sprop(h, "code"));
    }
    json_array_foreach(features(comms), i, f) {
        const char *code = sprop(f, "code"), *street = sprop(f, "street_code");
        cr_expect(all_digits(code, 12), "community code %s", code);
        cr_expect(all_digits(street, 9) && !strncmp(code, street, 9), "community %s in street %s", code, street);
        cr_expect(ends_with(sprop(f, "name"), "社区"), "community name %s", sprop(f, "name"));
        int found = 0;
        json_array_foreach(features(streets), j, h) found += !strcmp(sprop(h, "code"), street);
        cr_expect_eq(found, 1, "street %s of %s", street, code);
        json_array_foreach(features(comms), j, h) if (j > i) {
            cr_expect_str_neq(code, sprop(h, "code"));
            cr_expect_str_neq(sprop(f, "name"), sprop(h, "name"));
        }
    }
    int classes[3] = {0};
    json_array_foreach(features(roads), i, f) {
        const char *name = sprop(f, "name"), *cls = sprop(f, "class");
        cr_expect(ends_with(name, "路") || ends_with(name, "街") || ends_with(name, "大道"), "road name %s", name);
        classes[0] += !strcmp(cls, "primary"), classes[1] += !strcmp(cls, "secondary"), classes[2] += !strcmp(cls, "residential");
        cr_expect_str_eq(json_string_value(json_object_get(json_object_get(f, "geometry"), "type")), "LineString");
    }
    cr_expect(classes[0] > 0 && classes[1] > 0 && classes[2] > 0, "road classes %d %d %d", classes[0], classes[1], classes[2]);
    cr_expect_eq((size_t)(classes[0] + classes[1] + classes[2]), json_array_size(features(roads)));
    json_decref(streets), json_decref(comms), json_decref(roads);
    rm_dir(dir);
}

/* Polygons valid; communities tile the city with no gap or overlap; streets are unions of their
 * communities; shapes are irregular. */
Test(demo, topology) {
    char *dir = generate(0.3, DEMO_DEFAULT_SEED, NULL);
    GEOSContextHandle_t g = geo_ctx_new();
    json_t *streets = load(dir, "streets"), *comms = load(dir, "communities");
    size_t ns = json_array_size(features(streets)), nc = json_array_size(features(comms)), i, j;
    GEOSGeometry **sg = calloc(ns, sizeof *sg), **cg = calloc(nc, sizeof *cg);
    json_t *f;
    double street_sum = 0, comm_sum = 0;
    int concave = 0;
    json_array_foreach(features(streets), i, f) {
        sg[i] = geometry(g, f);
        cr_expect_eq(GEOSisValid_r(g, sg[i]), 1, "street %s invalid: %s", sprop(f, "code"), GEOSisValidReason_r(g, sg[i]));
        double a;
        GEOSArea_r(g, sg[i], &a);
        street_sum += a;
    }
    json_array_foreach(features(comms), i, f) {
        cg[i] = geometry(g, f);
        cr_expect_eq(GEOSisValid_r(g, cg[i]), 1, "community %s invalid", sprop(f, "code"));
        /* RFC 7946: exterior rings counter-clockwise, holes clockwise. */
        const GEOSGeometry *poly = GEOSGetGeometryN_r(g, cg[i], 0);
        char ccw = 0;
        GEOSCoordSeq_isCCW_r(g, GEOSGeom_getCoordSeq_r(g, GEOSGetExteriorRing_r(g, poly)), &ccw);
        cr_expect(ccw, "community %s: exterior ring is clockwise", sprop(f, "code"));
        for (int h = 0; h < GEOSGetNumInteriorRings_r(g, poly); h++) {
            GEOSCoordSeq_isCCW_r(g, GEOSGeom_getCoordSeq_r(g, GEOSGetInteriorRingN_r(g, poly, h)), &ccw);
            cr_expect(!ccw, "community %s: hole %d is counter-clockwise", sprop(f, "code"), h);
        }
        cr_expect_eq(GEOSGetNumGeometries_r(g, cg[i]), 1, "community %s is not one piece", sprop(f, "code"));
        double a, hull_area;
        GEOSArea_r(g, cg[i], &a);
        GEOSGeometry *hull = GEOSConvexHull_r(g, cg[i]);
        GEOSArea_r(g, hull, &hull_area);
        GEOSGeom_destroy_r(g, hull);
        concave += a / hull_area < 0.9;
        comm_sum += a;
    }
    GEOSGeometry *ccoll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, cg, (unsigned)nc);
    GEOSGeometry *scoll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, sg, (unsigned)ns);
    GEOSGeometry *cu = GEOSUnaryUnion_r(g, ccoll), *su = GEOSUnaryUnion_r(g, scoll);
    double cu_area, su_area;
    GEOSArea_r(g, cu, &cu_area);
    GEOSArea_r(g, su, &su_area);
    cr_expect(fabs(comm_sum - cu_area) <= 1e-9 * cu_area, "communities overlap: sum %.12g union %.12g", comm_sum, cu_area);
    cr_expect(fabs(street_sum - su_area) <= 1e-9 * su_area, "streets overlap: sum %.12g union %.12g", street_sum, su_area);
    cr_expect(fabs(cu_area - su_area) <= 1e-9 * su_area, "communities %.12g vs city %.12g", cu_area, su_area);
    GEOSGeometry *diff = GEOSSymDifference_r(g, cu, su);
    double diff_area;
    GEOSArea_r(g, diff, &diff_area);
    cr_expect(diff_area <= 1e-9 * su_area, "communities and streets cover different ground: %.3g", diff_area);
    cr_expect_eq(GEOSGetNumGeometries_r(g, su), 1, "the city is not one piece");
    cr_expect_geq(concave, 0.3 * nc, "only %d of %zu communities are concave", concave, nc);
    /* Each street's area is the sum of its communities'. */
    json_t *sf;
    json_array_foreach(features(streets), i, sf) {
        double own = 0, area;
        json_array_foreach(features(comms), j, f) if (!strcmp(sprop(f, "street_code"), sprop(sf, "code"))) {
            double a;
            GEOSArea_r(g, GEOSGetGeometryN_r(g, ccoll, (int)j), &a);
            own += a;
        }
        GEOSArea_r(g, GEOSGetGeometryN_r(g, scoll, (int)i), &area);
        cr_expect(fabs(own - area) <= 1e-9 * area, "street %s: %.12g vs its communities %.12g", sprop(sf, "code"), area, own);
    }
    free(cg), free(sg);
    GEOSGeom_destroy_r(g, ccoll), GEOSGeom_destroy_r(g, scoll), GEOSGeom_destroy_r(g, cu), GEOSGeom_destroy_r(g, su);
    GEOSGeom_destroy_r(g, diff);
    geo_ctx_free(g);
    json_decref(streets), json_decref(comms);
    rm_dir(dir);
}

/* Every building inside its own community, with sane numbers; facilities of every type in the city. */
Test(demo, buildings_and_facilities) {
    char *dir = generate(0.1, DEMO_DEFAULT_SEED, NULL);
    GEOSContextHandle_t g = geo_ctx_new();
    json_t *comms = load(dir, "communities"), *blds = load(dir, "buildings"), *facs = load(dir, "facilities");
    json_t *streets = load(dir, "streets"), *roads = load(dir, "roads");
    size_t nc = json_array_size(features(comms)), i, k;
    GEOSGeometry **cg = calloc(nc, sizeof *cg);
    const GEOSPreparedGeometry **prep = calloc(nc, sizeof *prep);
    long long *households = calloc(nc, sizeof *households);
    json_t *f;
    json_array_foreach(features(comms), i, f) cg[i] = geometry(g, f), prep[i] = GEOSPrepare_r(g, cg[i]);
    int outside = 0, tower = 0, walkup = 0, lowrise = 0;
    json_array_foreach(features(blds), i, f) {
        const char *code = sprop(f, "community_code");
        size_t c = nc;
        for (k = 0; k < nc; k++)
            if (!strcmp(sprop(json_array_get(features(comms), k), "code"), code)) c = k;
        cr_assert_lt(c, nc, "building %s names unknown community %s", sprop(f, "ext_id"), code);
        GEOSGeometry *pt = geometry(g, f);
        if (GEOSPreparedContainsProperly_r(g, prep[c], pt) != 1) outside++;
        GEOSGeom_destroy_r(g, pt);
        long long h = iprop(f, "households");
        households[c] += h;
        cr_expect(h >= 1 && h <= 200, "building %s households %lld", sprop(f, "ext_id"), h);
        cr_expect_geq(iprop(f, "population"), h);
        cr_expect(iprop(f, "floors") >= 1 && iprop(f, "floors") <= 33);
        cr_expect(iprop(f, "elderly_alone") >= 0 && iprop(f, "elderly_alone") <= h);
        cr_expect(iprop(f, "low_income") >= 0 && iprop(f, "low_income") <= h && iprop(f, "disabled") >= 0);
        tower += h >= 60, walkup += h >= 12 && h <= 40, lowrise += h <= 4;
    }
    cr_expect_eq(outside, 0, "%d buildings outside their community", outside);
    /* No building stands on a road: all keep the 12 m setback (1.085e-4 degree) from block edges. */
    size_t nr = json_array_size(features(roads));
    GEOSGeometry **rg = calloc(nr, sizeof *rg);
    json_array_foreach(features(roads), i, f) rg[i] = geometry(g, f);
    GEOSGeometry *rcoll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, rg, (unsigned)nr);
    const GEOSPreparedGeometry *proads = GEOSPrepare_r(g, rcoll);
    double nearest = 1e9;
    json_array_foreach(features(blds), i, f) {
        GEOSGeometry *pt = geometry(g, f);
        double d;
        if (GEOSPreparedDistance_r(g, proads, pt, &d) == 1 && d < nearest) nearest = d;
        GEOSGeom_destroy_r(g, pt);
    }
    cr_expect_geq(nearest, 1.0e-4, "a building is %.3g degree from a road", nearest);
    GEOSPreparedGeom_destroy_r(g, proads);
    GEOSGeom_destroy_r(g, rcoll);
    free(rg);
    cr_expect(tower > 0 && walkup > 0 && lowrise > 0, "building mix %d/%d/%d", tower, walkup, lowrise);
    json_array_foreach(features(comms), i, f)
        cr_expect_eq(households[i], iprop(f, "households"), "community %s households", sprop(f, "code"));
    /* Facilities: every service type, each inside the city. */
    size_t ns = json_array_size(features(streets));
    GEOSGeometry **sg = calloc(ns, sizeof *sg);
    json_array_foreach(features(streets), i, f) sg[i] = geometry(g, f);
    GEOSGeometry *scoll = GEOSGeom_createCollection_r(g, GEOS_GEOMETRYCOLLECTION, sg, (unsigned)ns);
    GEOSGeometry *city = GEOSUnaryUnion_r(g, scoll);
    const GEOSPreparedGeometry *pcity = GEOSPrepare_r(g, city);
    int per_type[16] = {0}, unknown = 0, out_of_city = 0;
    json_array_foreach(features(facs), i, f) {
        const char *type = sprop(f, "type");
        int t = -1;
        for (k = 0; demo_facility_types[k]; k++)
            if (!strcmp(type, demo_facility_types[k])) t = (int)k;
        if (t < 0) unknown++;
        else per_type[t]++;
        GEOSGeometry *pt = geometry(g, f);
        if (GEOSPreparedContainsProperly_r(g, pcity, pt) != 1) out_of_city++;
        GEOSGeom_destroy_r(g, pt);
        cr_expect(strlen(sprop(f, "name")) > 3 && strlen(sprop(f, "ext_id")) > 0);
    }
    cr_expect_eq(unknown, 0);
    cr_expect_eq(out_of_city, 0, "%d facilities outside the city", out_of_city);
    for (k = 0; demo_facility_types[k]; k++) cr_expect_gt(per_type[k], 0, "no %s", demo_facility_types[k]);
    cr_expect_eq(k, 11, "the 11 service types of rules.md");
    cr_expect_eq(per_type[0], (int)nc, "one community service station per community");
    GEOSPreparedGeom_destroy_r(g, pcity);
    GEOSGeom_destroy_r(g, city), GEOSGeom_destroy_r(g, scoll);
    for (i = 0; i < nc; i++) GEOSPreparedGeom_destroy_r(g, prep[i]), GEOSGeom_destroy_r(g, cg[i]);
    free(cg), free(prep), free(households), free(sg);
    geo_ctx_free(g);
    json_decref(comms), json_decref(blds), json_decref(facs), json_decref(streets), json_decref(roads);
    rm_dir(dir);
}
