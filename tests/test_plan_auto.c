/* test_plan_auto.c — auto-plan on a synthetic city (split, merge, locked untouched), city-wide grids,
 * and merges/splits on the real Chicago community areas. */
#include "plan_fixtures.h"

FX_PLAN_SUITE(auto_plan);

/* Four 0.01° squares in a row W→E: A (5,000 hh), B (500), C (1,500), D (800, locked). */
static void synthetic_city(plan_city_t *city) {
    const long hh[4] = {5000, 500, 1500, 800};
    memset(city, 0, sizeof *city);
    city->comms = calloc(4, sizeof *city->comms);
    city->ncomms = 4;
    city->blds = calloc(400, sizeof *city->blds);
    for (int c = 0; c < 4; c++) {
        plan_community_t *cm = &city->comms[c];
        snprintf(cm->code, sizeof cm->code, "15010200100%c", (char)('1' + c));
        snprintf(cm->street_code, sizeof cm->street_code, "150102001");
        snprintf(cm->name, sizeof cm->name, "C%d", c + 1);
        cm->households = hh[c];
        cm->locked = c == 3;
        char wkt[256];
        double x = 111.6 + 0.01 * c;
        snprintf(wkt, sizeof wkt, "POLYGON((%.2f 40.8,%.2f 40.8,%.2f 40.81,%.2f 40.81,%.2f 40.8))", x, x + 0.01, x + 0.01, x, x);
        cm->geom = fx_wkt(g, wkt);
        for (int i = 0; i < 100; i++) {
            plan_building_t *b = &city->blds[city->nblds++];
            b->fid = (int64_t)city->nblds;
            b->x = x + 0.001 * (i % 10) + 0.0005;
            b->y = 40.8 + 0.001 * (i / 10) + 0.0005;
            b->households = hh[c] / 100;
            b->community = c;
        }
    }
}

Test(auto_plan, splits_merges_and_leaves_locked_untouched) {
    plan_city_t city;
    synthetic_city(&city);
    size_t wkb_len;
    unsigned char *locked_before = geo_to_wkb(g, city.comms[3].geom, &wkb_len);
    rules_t *r;
    char err[512] = "";
    cr_assert_eq(rules_load("hohhot-2023", &r, err, sizeof err), 0, "%s", err);
    plan_auto_t *a;
    cr_assert_eq(plan_auto_run(&ctx, &city, r, &a, err, sizeof err), 0, "%s", err);
    cr_assert_eq(a->nactions, 2, "one split, one merge (the locked 800 is left)");
    cr_assert_str_eq(a->actions[0].op, "split");
    cr_assert(a->actions[0].ok, "%s", a->actions[0].reason);
    cr_assert_eq(a->actions[0].parts, 3, "5,000 -> 3 parts of ~1,667 (nearest the 2,000 target)");
    cr_assert_str_eq(a->actions[0].new_codes, "150102001001,150102001005,150102001006");
    cr_assert_str_eq(a->actions[1].op, "merge");
    cr_assert(a->actions[1].ok, "%s", a->actions[1].reason);
    cr_assert_str_eq(a->actions[1].code, "150102001002");
    cr_assert_str_eq(a->actions[1].into, "150102001003", "C, not A's parts (no shared edge) nor locked D");
    cr_assert_eq(a->city.ncomms, 3 + 2, "A→3 parts, B merged into C, D kept");
    long total = 0;
    for (size_t c = 0; c < a->city.ncomms; c++) total += a->city.comms[c].households;
    cr_assert_eq(total, 5000 + 500 + 1500 + 800);
    /* Locked community: same geometry bytes, same buildings. */
    int found = 0;
    for (size_t c = 0; c < a->city.ncomms; c++) {
        if (strcmp(a->city.comms[c].code, "150102001004")) continue;
        size_t len;
        unsigned char *after = geo_to_wkb(g, a->city.comms[c].geom, &len);
        cr_assert_eq(len, wkb_len);
        cr_assert_eq(memcmp(after, locked_before, len), 0, "locked geometry changed");
        free(after);
        for (size_t i = 300; i < 400; i++) cr_assert_eq(a->city.blds[i].community, (int)c);
        found = 1;
    }
    cr_assert(found);
    cr_assert(a->quality.contiguous);
    cr_assert_eq(a->quality.outside_band, 0);

    /* City-wide grids of the plan: every grid coded 15 digits, unique, households conserved. */
    rules_band_t gb;
    rules_grid_band(r, &gb);
    plan_gridset_t *gs;
    cr_assert_eq(plan_grids_city(&ctx, &a->city, &gb, -1, &gs, err, sizeof err), 0, "%s", err);
    long gsum = 0;
    for (size_t i = 0; i < gs->n; i++) {
        gsum += gs->grids[i].households;
        cr_assert_eq(strlen(gs->grids[i].code), 15);
        for (size_t j = 0; j < i; j++) cr_assert_str_neq(gs->grids[i].code, gs->grids[j].code);
        cr_assert(gs->grids[i].contiguous);
    }
    cr_assert_eq(gsum, total);
    cr_assert_eq(gs->quality.outside_band, 0);
    cr_assert(gs->quality.pp_mean >= 0.35, "%f", gs->quality.pp_mean);
    for (size_t i = 0; i < a->city.nblds; i++) cr_assert_geq(gs->building_grid[i], 0);
    plan_gridset_free(g, gs);
    free(locked_before);
    plan_auto_free(g, a);
    rules_free(r);
    plan_city_free(g, &city);
}

static size_t chicago(plan_city_t *city) {
    json_t *root;
    json_t *f = fx_features("tests/data/chicago_community_areas_pop/chicago_commpop.geojson", &root);
    memset(city, 0, sizeof *city);
    city->ncomms = json_array_size(f);
    city->comms = calloc(city->ncomms, sizeof *city->comms);
    char err[256];
    for (size_t i = 0; i < city->ncomms; i++) {
        json_t *ft = json_array_get(f, i), *p = json_object_get(ft, "properties");
        plan_community_t *c = &city->comms[i];
        c->geom = geo_from_geojson(g, json_object_get(ft, "geometry"), err, sizeof err);
        cr_assert_not_null(c->geom, "%s", err);
        c->population = (long)json_integer_value(json_object_get(p, "POP2010"));
        c->households = lround(c->population / 2.5);
        snprintf(c->code, sizeof c->code, "170310000%03lld", (long long)json_integer_value(json_object_get(p, "NID")));
        snprintf(c->name, sizeof c->name, "%s", json_string_value(json_object_get(p, "community")));
        snprintf(c->street_code, sizeof c->street_code, "170310000");
    }
    json_decref(root);
    return city->ncomms;
}

Test(auto_plan, chicago_merge_smallest_area, .timeout = 60) {
    plan_city_t city;
    cr_assert_eq(chicago(&city), 77);
    int smallest = 0;
    for (size_t i = 1; i < city.ncomms; i++)
        if (city.comms[i].households < city.comms[smallest].households) smallest = (int)i;
    rules_band_t band = {4000, 20000, 12000, 20000, 4000};
    plan_merge_t m;
    char err[512] = "";
    cr_assert_eq(plan_merge_choose(&ctx, city.comms, city.ncomms, smallest, -1, &band, &m, err, sizeof err), 0, "%s", err);
    cr_assert(m.shared_m > 100, "shares a real boundary: %f m", m.shared_m);
    cr_assert_leq(m.households, 20000);
    cr_assert_eq(GEOSGeomTypeId_r(g, m.geom), GEOS_POLYGON, "merged into one polygon");
    cr_assert_eq(GEOSisValid_r(g, m.geom), 1);
    cr_assert(m.area_ratio < 1e-9, "merged area = sum of the two: %g", m.area_ratio);
    /* Every other neighbour that fits shares less boundary. */
    GEOSGeom_destroy_r(g, m.geom);
    /* Too tight a band: refused with a reason naming each neighbour. */
    rules_band_t tight = {100, 1200, 600, 1200, 100};
    cr_assert_eq(plan_merge_choose(&ctx, city.comms, city.ncomms, smallest, -1, &tight, &m, err, sizeof err), GP_EINFEASIBLE);
    cr_assert_not_null(strstr(err, "households together, over 1200"), "%s", err);
    plan_city_free(g, &city);
}

Test(auto_plan, chicago_areas_as_units_split_into_districts, .timeout = 60) {
    plan_city_t city;
    chicago(&city);
    GEOSGeometry **polys = malloc(city.ncomms * sizeof *polys);
    long *hh = malloc(city.ncomms * sizeof *hh), total = 0;
    for (size_t i = 0; i < city.ncomms; i++) {
        polys[i] = city.comms[i].geom;
        hh[i] = city.comms[i].households;
        total += hh[i];
    }
    plan_units_t *u;
    char err[512] = "";
    cr_assert_eq(plan_units_from_polygons(&ctx, polys, hh, NULL, city.ncomms, &u, err, sizeof err), 0, "%s", err);
    rules_band_t band = {total / 8 * 8 / 10, total / 8 * 12 / 10, total / 8, 0, 0};
    plan_split_t *s;
    cr_assert_eq(plan_split_units(&ctx, NULL, u, 8, &band, &s, err, sizeof err), 0, "%s", err);
    long sum = 0;
    for (int p = 0; p < 8; p++) sum += s->parts[p].households;
    cr_assert_eq(sum, total);
    cr_assert(s->quality.area_ratio < 1e-9, "%g", s->quality.area_ratio);
    cr_assert(s->quality.symdiff_ratio < 1e-9, "%g", s->quality.symdiff_ratio);
    cr_assert_eq(s->quality.outside_band, 0, "%s", s->reason);
    /* The 77 areas' union is in 3 pieces (O'Hare's strip touches only at points): every part is one
     * polygon except the one holding an exclave, and the result says so. */
    int multi = 0;
    for (int p = 0; p < 8; p++) multi += !s->parts[p].contiguous;
    cr_assert_leq(multi, 2);
    if (multi) cr_assert_not_null(strstr(s->reason, "pieces, so a part holds an exclave"), "%s", s->reason);
    plan_split_free(g, s);
    plan_units_free(g, u);
    free(polys);
    free(hh);
    plan_city_free(g, &city);
}

/* Merge choice: the same street beats a longer boundary; locked neighbours and corner-only
 * neighbours are refused with the reason. */
Test(auto_plan, merge_prefers_same_street_then_longest_boundary) {
    plan_community_t c[4] = {0};
    const char *wkt[4] = {"POLYGON((111.60 40.80,111.61 40.80,111.61 40.81,111.60 40.81,111.60 40.80))",    /* small */
                          "POLYGON((111.59 40.80,111.60 40.80,111.60 40.81,111.59 40.81,111.59 40.80))",    /* west, whole edge */
                          "POLYGON((111.61 40.80,111.62 40.80,111.62 40.805,111.61 40.805,111.61 40.80))",  /* east, half edge */
                          "POLYGON((111.61 40.81,111.62 40.81,111.62 40.82,111.61 40.82,111.61 40.81))"};   /* corner only */
    const char *street[4] = {"150102001", "150102002", "150102001", "150102001"};
    const long hh[4] = {600, 1500, 1800, 1000};
    for (int i = 0; i < 4; i++) {
        c[i].geom = fx_wkt(g, wkt[i]);
        snprintf(c[i].code, sizeof c[i].code, "%s%03d", street[i], i + 1);
        snprintf(c[i].street_code, sizeof c[i].street_code, "%s", street[i]);
        c[i].households = hh[i];
    }
    rules_band_t band = {1000, 3000, 2000, 4000, 1000};
    plan_merge_t m;
    char err[512] = "";
    cr_assert_eq(plan_merge_choose(&ctx, c, 4, 0, -1, &band, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.into, 2, "same street (east) beats the longer boundary (west)");
    cr_assert(m.same_street);
    cr_assert_float_eq(m.shared_m, 0.005 * 111195, 15, "half an edge: %f m", m.shared_m);
    cr_assert_eq(m.households, 2400);
    cr_assert_eq(GEOSGeomTypeId_r(g, m.geom), GEOS_POLYGON);
    cr_assert(m.area_ratio < 1e-9);
    GEOSGeom_destroy_r(g, m.geom);
    c[2].locked = 1;
    cr_assert_eq(plan_merge_choose(&ctx, c, 4, 0, -1, &band, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.into, 1, "east locked: the west neighbour on another street");
    GEOSGeom_destroy_r(g, m.geom);
    cr_assert_eq(plan_merge_choose(&ctx, c, 4, 0, 3, &band, &m, err, sizeof err), GP_EINFEASIBLE);
    cr_assert_not_null(strstr(err, "shares no boundary"), "%s", err);
    c[1].households = 2500;
    cr_assert_eq(plan_merge_choose(&ctx, c, 4, 0, -1, &band, &m, err, sizeof err), GP_EINFEASIBLE);
    cr_assert_not_null(strstr(err, "150102002002 (3100 households together, over 3000)"), "%s", err);
    cr_assert_not_null(strstr(err, "150102001003 (locked)"), "%s", err);
    for (int i = 0; i < 4; i++) GEOSGeom_destroy_r(g, c[i].geom);
}
