/* test_plan_split.c — split, grids and grid codes on synthetic areas with known answers and on real
 * data (Liechtenstein buildings in their municipalities). */
#include "plan_fixtures.h"
#include "srs.h"

FX_PLAN_SUITE(split);

/* A ~1.1 km square near Hohhot with an n×n lattice of buildings of `hh` households each. */
static plan_building_t *lattice(int n, long hh, double x0, double y0, double size) {
    plan_building_t *b = calloc((size_t)(n * n), sizeof *b);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            plan_building_t *p = &b[i * n + j];
            p->fid = i * n + j + 1;
            p->x = x0 + size * (i + 0.5) / n;
            p->y = y0 + size * (j + 0.5) / n;
            p->households = hh;
            p->population = hh * 3;
        }
    return b;
}

static const rules_band_t hohhot = {1000, 3000, 2000, 4000, 1000};

Test(split, square_into_two_balanced_contiguous_exact_parts) {
    GEOSGeometry *sq = fx_wkt(g, "POLYGON((111.6 40.8,111.61 40.8,111.61 40.81,111.6 40.81,111.6 40.8))");
    plan_building_t *b = lattice(10, 45, 111.6, 40.8, 0.01);  /* 4,500 households */
    plan_split_t *s;
    char err[512] = "";
    cr_assert_eq(plan_split_buildings(&ctx, sq, b, 100, 0, &hohhot, NULL, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s->k, 2, "k from band: 4,500 -> 2 parts of 2,250");
    fx_assert_exact(g, sq, s, 4500);
    for (int p = 0; p < 2; p++) {
        cr_assert(s->parts[p].in_band, "part %d has %ld households", p, s->parts[p].households);
        cr_assert(s->parts[p].polsby_popper > 0.5, "halves of a square are compact: %f", s->parts[p].polsby_popper);
    }
    cr_assert_eq(s->quality.outside_band, 0);
    cr_assert_str_eq(s->reason, "");
    /* Every building went to exactly the part whose polygon contains it. */
    for (int i = 0; i < 100; i++) {
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(g, b[i].x, b[i].y);
        cr_assert_eq(GEOSIntersects_r(g, s->parts[s->building_part[i]].geom, pt), 1, "building %d outside its part", i);
        GEOSGeom_destroy_r(g, pt);
    }
    plan_split_free(g, s);
    free(b);
    GEOSGeom_destroy_r(g, sq);
}

Test(split, concave_area_and_duplicate_points) {
    /* An L shape with a notch: Voronoi cells cross the notch and must be cut into separate faces. */
    GEOSGeometry *l = fx_wkt(g, "POLYGON((111.6 40.8,111.62 40.8,111.62 40.805,111.605 40.805,111.605 40.82,111.6 40.82,111.6 40.8))");
    plan_building_t b[60];
    int n = 0;
    for (int i = 0; i < 20; i++) b[n++] = (plan_building_t){n + 1, 111.6 + 0.0009 * i + 0.0005, 40.8025, 50, 120, 0};
    for (int i = 0; i < 19; i++) b[n++] = (plan_building_t){n + 1, 111.6025, 40.806 + 0.0007 * i, 50, 120, 0};
    /* Three buildings at one address: combined into one unit, households kept. */
    for (int i = 0; i < 3; i++) b[n++] = (plan_building_t){n + 1, 111.6025, 40.806, 30, 60, 0};
    long total = 0;
    for (int i = 0; i < n; i++) total += b[i].households;
    plan_split_t *s;
    char err[512] = "";
    cr_assert_eq(plan_split_buildings(&ctx, l, b, (size_t)n, 3, &hohhot, NULL, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s->k, 3);
    fx_assert_exact(g, l, s, total);
    cr_assert_eq(s->building_part[n - 1], s->building_part[n - 2], "coincident buildings stay together");
    plan_split_free(g, s);
    GEOSGeom_destroy_r(g, l);
}

Test(split, one_building_over_the_band_is_reported) {
    GEOSGeometry *sq = fx_wkt(g, "POLYGON((111.6 40.8,111.61 40.8,111.61 40.81,111.6 40.81,111.6 40.8))");
    plan_building_t *b = lattice(4, 100, 111.6, 40.8, 0.01);
    b[5].households = 3600;   /* a tower block alone above the band's top */
    plan_split_t *s;
    char err[512] = "";
    cr_assert_eq(plan_split_buildings(&ctx, sq, b, 16, 0, &hohhot, NULL, &s, err, sizeof err), 0, "%s", err);
    fx_assert_exact(g, sq, s, 3600 + 1500);
    cr_assert_geq(s->quality.outside_band, 1);
    cr_assert_eq(s->quality.forced_by_building, 1);
    cr_assert_not_null(strstr(s->reason, "one building (or unit) holds 3600 households"), "%s", s->reason);
    plan_split_free(g, s);
    free(b);
    GEOSGeom_destroy_r(g, sq);
}

Test(split, nothing_to_split) {
    GEOSGeometry *sq = fx_wkt(g, "POLYGON((111.6 40.8,111.61 40.8,111.61 40.81,111.6 40.81,111.6 40.8))");
    plan_split_t *s = NULL;
    char err[512] = "";
    cr_assert_eq(plan_split_buildings(&ctx, sq, NULL, 0, 2, &hohhot, NULL, &s, err, sizeof err), GP_EINFEASIBLE);
    cr_assert_not_null(strstr(err, "no buildings"), "%s", err);
    plan_building_t one = {1, 111.605, 40.805, 5000, 0, 0};
    cr_assert_eq(plan_split_buildings(&ctx, sq, &one, 1, 2, &hohhot, NULL, &s, err, sizeof err), GP_EINFEASIBLE);
    cr_assert_not_null(strstr(err, "2 parts of 1 unit"), "%s", err);
    cr_assert_null(s);
    GEOSGeom_destroy_r(g, sq);
}

Test(split, choose_k_from_band) {
    cr_assert_eq(plan_choose_k(4500, &hohhot), 2);
    cr_assert_eq(plan_choose_k(7200, &hohhot), 4);   /* 1,800 each: nearest the 2,000 target */
    cr_assert_eq(plan_choose_k(9100, &hohhot), 5);
    rules_band_t grid = {150, 500, 300, 500, 150};
    cr_assert_eq(plan_choose_k(2000, &grid), 7);
    cr_assert_eq(plan_choose_k(100, &grid), 1);
}

Test(split, grid_codes_run_west_to_east_north_to_south) {
    /* 3 rows × 4 columns of square blocks as given units, 300 households each: 12 grids of one block. */
    GEOSGeometry *cells[12];
    long hh[12];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++) {
            char wkt[256];
            double x = 111.6 + c * 0.002, y = 40.806 - r * 0.002;
            snprintf(wkt, sizeof wkt, "POLYGON((%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f))", x, y, x + 0.002, y,
                     x + 0.002, y + 0.002, x, y + 0.002, x, y);
            cells[r * 4 + c] = fx_wkt(g, wkt);
            hh[r * 4 + c] = 300;
        }
    plan_units_t *u;
    char err[512] = "";
    cr_assert_eq(plan_units_from_polygons(&ctx, cells, hh, NULL, 12, &u, err, sizeof err), 0, "%s", err);
    cr_assert_eq(u->xadj[12], 2 * (3 * 3 + 2 * 4), "rook adjacency only, corners excluded");
    rules_band_t grid = {150, 500, 300, 500, 150};
    plan_split_t *s;
    cr_assert_eq(plan_split_units(&ctx, NULL, u, 12, &grid, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(plan_grid_number(&ctx, s, "150102001003", err, sizeof err), 0, "%s", err);
    for (int i = 0; i < 12; i++) {
        char want[24];
        snprintf(want, sizeof want, "150102001003%03d", i + 1);
        cr_assert_str_eq(s->parts[i].code, want);
        cr_assert_eq(s->parts[i].seq, i + 1);
        /* seq i+1 must be block (row i/4, column i%4): check by its centroid. */
        GEOSGeometry *c = GEOSGetCentroid_r(g, s->parts[i].geom);
        double x, y;
        GEOSGeomGetX_r(g, c, &x);
        GEOSGeomGetY_r(g, c, &y);
        GEOSGeom_destroy_r(g, c);
        cr_assert_float_eq(x, 111.601 + (i % 4) * 0.002, 1e-9, "grid %d x", i + 1);
        cr_assert_float_eq(y, 40.807 - (i / 4) * 0.002, 1e-9, "grid %d y", i + 1);
        cr_assert_eq(s->parts[s->unit_part[i]].households, 300);
    }
    cr_assert_eq(plan_grid_number(&ctx, s, "15010200100", err, sizeof err), GP_EINVAL, "11-digit community code refused");
    plan_split_free(g, s);
    plan_units_free(g, u);
    for (int i = 0; i < 12; i++) GEOSGeom_destroy_r(g, cells[i]);
}

Test(split, grids_of_a_4000_household_community) {
    GEOSGeometry *sq = fx_wkt(g, "POLYGON((111.6 40.8,111.615 40.8,111.615 40.81,111.6 40.81,111.6 40.8))");
    plan_building_t *b = lattice(20, 10, 111.6, 40.8, 0.01);   /* 400 buildings × 10 = 4,000 households */
    for (int i = 0; i < 400; i++) b[i].x = 111.6 + (b[i].x - 111.6) * 1.5;
    rules_band_t grid = {150, 500, 300, 500, 150};
    plan_split_t *s;
    char err[512] = "";
    cr_assert_eq(plan_grids(&ctx, sq, b, 400, &grid, "150102001003", NULL, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s->k, 13, "4,000/300 -> 13 grids");
    fx_assert_exact(g, sq, s, 4000);
    cr_assert_eq(s->quality.outside_band, 0, "%s", s->reason);
    cr_assert(s->quality.pp_mean >= 0.35, "mean Polsby-Popper %f", s->quality.pp_mean);
    for (int i = 1; i < s->k; i++) cr_assert(strcmp(s->parts[i - 1].code, s->parts[i].code) < 0);
    plan_split_free(g, s);
    free(b);
    GEOSGeom_destroy_r(g, sq);
}

/* Real data: every Liechtenstein municipality (admin_level 8) with the OSM buildings inside it,
 * one household per building; grids of 30–100 (target 60) households. */
Test(split, liechtenstein_municipalities_into_grids, .timeout = 60) {
    json_t *broot, *aroot;
    json_t *bf = fx_features("tests/data/osm_liechtenstein_2013/buildings.geojson", &broot);
    json_t *af = fx_features("tests/data/osm_liechtenstein_2013/admin_boundaries.geojson", &aroot);
    size_t nb = json_array_size(bf);
    plan_building_t *all = calloc(nb, sizeof *all);
    char err[512] = "";
    for (size_t i = 0; i < nb; i++) {
        GEOSGeometry *fp = geo_from_geojson(g, json_object_get(json_array_get(bf, i), "geometry"), err, sizeof err);
        cr_assert_not_null(fp, "%s", err);
        GEOSGeometry *p = GEOSPointOnSurface_r(g, fp);
        GEOSGeomGetX_r(g, p, &all[i].x);
        GEOSGeomGetY_r(g, p, &all[i].y);
        all[i].households = 1;
        all[i].fid = (int64_t)i;
        GEOSGeom_destroy_r(g, p);
        GEOSGeom_destroy_r(g, fp);
    }
    rules_band_t grid = {30, 100, 60, 100, 30};
    int municipalities = 0, grids = 0;
    for (size_t m = 0; m < json_array_size(af); m++) {
        json_t *f = json_array_get(af, m);
        if (strcmp(json_string_value(json_object_get(json_object_get(f, "properties"), "admin_level")), "8")) continue;
        GEOSGeometry *area = geo_from_geojson(g, json_object_get(f, "geometry"), err, sizeof err);
        cr_assert_not_null(area, "%s", err);
        const GEOSPreparedGeometry *pa = GEOSPrepare_r(g, area);
        plan_building_t *in = calloc(nb, sizeof *in);
        size_t n = 0;
        for (size_t i = 0; i < nb; i++) {
            GEOSGeometry *p = GEOSGeom_createPointFromXY_r(g, all[i].x, all[i].y);
            if (GEOSPreparedContains_r(g, pa, p) == 1) in[n++] = all[i];
            GEOSGeom_destroy_r(g, p);
        }
        GEOSPreparedGeom_destroy_r(g, pa);
        if (n >= 2) {
            plan_split_t *s;
            cr_assert_eq(plan_grids(&ctx, area, in, n, &grid, "000000000001", NULL, &s, err, sizeof err), 0, "%s", err);
            fx_assert_exact(g, area, s, (long)n);
            /* Exclaves aside (several municipalities have them), each part is one polygon. */
            if (GEOSGetNumGeometries_r(g, area) == 1) cr_assert(s->quality.contiguous);
            cr_assert_eq(s->quality.outside_band, 0, "%s: %s",
                         json_string_value(json_object_get(json_object_get(f, "properties"), "name")), s->reason);
            municipalities++;
            grids += s->k;
            plan_split_free(g, s);
        }
        free(in);
        GEOSGeom_destroy_r(g, area);
    }
    cr_assert_geq(municipalities, 8, "municipalities with buildings: %d", municipalities);
    cr_assert_geq(grids, 30);
    free(all);
    json_decref(broot);
    json_decref(aroot);
}

/* The same input gives the same parts, run after run (GEOS face order is not stable by itself). */
Test(split, results_are_reproducible) {
    GEOSGeometry *sq = fx_wkt(g, "POLYGON((111.6 40.8,111.615 40.8,111.615 40.81,111.6 40.81,111.6 40.8))");
    plan_building_t *b = lattice(12, 10, 111.6, 40.8, 0.01);
    for (int i = 0; i < 144; i++) b[i].x += 0.0001 * ((i * 7919) % 13);   /* irregular */
    rules_band_t grid = {150, 500, 300, 500, 150};
    unsigned char *first[8] = {0};
    size_t len[8];
    for (int run = 0; run < 3; run++) {
        plan_split_t *s;
        char err[512] = "";
        cr_assert_eq(plan_grids(&ctx, sq, b, 144, &grid, "150102001003", NULL, &s, err, sizeof err), 0, "%s", err);
        cr_assert_eq(s->k, 5);
        for (int p = 0; p < s->k; p++) {
            size_t n;
            unsigned char *w = geo_to_wkb(g, s->parts[p].geom, &n);
            if (run == 0) { first[p] = w; len[p] = n; continue; }
            cr_assert_eq(n, len[p]);
            cr_assert_eq(memcmp(w, first[p], n), 0, "run %d part %d differs", run, p);
            free(w);
        }
        plan_split_free(g, s);
    }
    for (int p = 0; p < 8; p++) free(first[p]);
    free(b);
    GEOSGeom_destroy_r(g, sq);
}
