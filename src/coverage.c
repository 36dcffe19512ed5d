/* coverage.c — coverage counts per community, grid and city; uncovered buildings; gap filling.
 *
 * Straight mode indexes each circle's facilities on a grid of the radius, so each building looks at
 * 3×3 cells: O(buildings + facilities) per circle. Network mode walks the roads once per circle
 * (multi-source Dijkstra) and tests each building against the reached pieces' index. */
#include "coverage.h"
#include "err.h"
#include "log.h"
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const coverage_count_names[COV_N] = {"buildings", "households", "population", "elderly_alone", "disabled",
                                                  "low_income"};

static void coverage_add(coverage_counts_t *c, const circles_building_t *b) {
    c->v[COV_BUILDINGS] += 1;
    c->v[COV_HOUSEHOLDS] += b->households;
    c->v[COV_POPULATION] += b->population;
    c->v[COV_ELDERLY_ALONE] += b->elderly_alone;
    c->v[COV_DISABLED] += b->disabled;
    c->v[COV_LOW_INCOME] += b->low_income;
}

double coverage_share(const coverage_area_t *a, int def) {
    int k = a->total.v[COV_HOUSEHOLDS] > 0 ? COV_HOUSEHOLDS : COV_BUILDINGS;
    if (a->total.v[k] == 0) return 0;
    return (double)a->covered[def].v[k] / (double)a->total.v[k];
}

typedef struct coverage_near {
    const circles_data_t *d;
    const int *ids;     /* facility index per index item */
    double x, y, r2;
} coverage_near_t;

static int coverage_near_visit(void *user, int item) {
    coverage_near_t *s = user;
    const circles_facility_t *f = &s->d->facilities[s->ids[item]];
    double dx = f->x - s->x, dy = f->y - s->y;
    return dx * dx + dy * dy <= s->r2;   /* non-zero stops the query: covered */
}

/* Straight mode: hit[b] = 1 when a facility of def (of only_type when not NULL) is within radius_m. */
static int coverage_straight(const circles_data_t *d, const circles_def_t *def, const char *only_type, unsigned char *hit) {
    int *ids = malloc((size_t)(d->n_facilities ? d->n_facilities : 1) * sizeof *ids);
    double *boxes = malloc((size_t)(d->n_facilities ? d->n_facilities : 1) * 4 * sizeof *boxes);
    int n = 0, rc = GP_OK;
    roadnet_index_t ix = {0};
    memset(hit, 0, (size_t)d->n_buildings);
    if (!ids || !boxes) { rc = GP_ENOMEM; goto end; }
    for (int i = 0; i < d->n_facilities; i++) {
        if (!circles_def_serves(def, only_type, d->facilities[i].type)) continue;
        ids[n] = i;
        boxes[4 * n] = boxes[4 * n + 2] = d->facilities[i].x;
        boxes[4 * n + 1] = boxes[4 * n + 3] = d->facilities[i].y;
        n++;
    }
    if (n == 0) goto end;
    if ((rc = roadnet_index_build(&ix, boxes, n, def->radius_m))) goto end;
    coverage_near_t s = {.d = d, .ids = ids, .r2 = def->radius_m * def->radius_m};
    double r = def->radius_m;
    for (int b = 0; b < d->n_buildings; b++) {
        s.x = d->buildings[b].x;
        s.y = d->buildings[b].y;
        hit[b] = roadnet_index_query(&ix, s.x - r, s.y - r, s.x + r, s.y + r, coverage_near_visit, &s) != 0;
    }
end:
    roadnet_index_free(&ix);
    free(ids);
    free(boxes);
    return rc;
}

/* Network mode: hit[b] = 1 when the building is within buffer_m of a road piece reached from a
 * facility of def (of only_type) within the walking budget. */
static int coverage_network(circles_data_t *d, const circles_def_t *def, const char *only_type, double buffer_m,
                            unsigned char *hit, int *unsnapped) {
    roadnet_reach_t *r;
    int missed = 0;
    int rc = circles_network_reach(d, def, -1, only_type, &r, &missed);
    if (rc) return rc;
    *unsnapped += missed;
    for (int b = 0; b < d->n_buildings; b++)
        hit[b] = isfinite(roadnet_reach_nearest(r, d->buildings[b].x, d->buildings[b].y, buffer_m));
    roadnet_reach_free(r);
    return GP_OK;
}

/* One circle into column c of covered: one pass over all its types ("any"), or one per type
 * ANDed together ("all"). */
static int coverage_circle(circles_data_t *d, const circles_defs_t *defs, int c, circles_mode_t mode, unsigned char *covered,
                           int *nfac, int *unsnapped) {
    const circles_def_t *def = &defs->defs[c];
    int passes = def->match_all && def->n_types > 1 ? def->n_types : 1, rc = GP_OK;
    unsigned char *all = malloc((size_t)d->n_buildings + 1), *hit = calloc((size_t)d->n_buildings + 1, 1);
    if (!all || !hit) { rc = GP_ENOMEM; goto end; }
    memset(all, 1, (size_t)d->n_buildings + 1);
    *nfac = 0;
    for (int i = 0; i < d->n_facilities; i++) *nfac += circles_def_has_type(def, d->facilities[i].type);
    for (int p = 0; p < passes && !rc; p++) {
        const char *only = passes > 1 ? def->facility_types[p] : NULL;
        rc = mode == CIRCLES_NETWORK ? coverage_network(d, def, only, defs->network_buffer_m, hit, unsnapped)
                                     : coverage_straight(d, def, only, hit);
        for (int b = 0; b < d->n_buildings; b++) all[b] &= hit[b];
        memset(hit, 0, (size_t)d->n_buildings + 1);
    }
    for (int b = 0; b < d->n_buildings && !rc; b++) covered[(size_t)b * defs->n + c] = all[b];
end:
    free(all);
    free(hit);
    return rc;
}

static int coverage_area_init(coverage_area_t *a, int n_defs) {
    memset(a, 0, sizeof *a);
    a->covered = calloc((size_t)(n_defs ? n_defs : 1), sizeof *a->covered);
    return a->covered ? GP_OK : GP_ENOMEM;
}

static int coverage_life_circle(const coverage_t *cov, const coverage_area_t *a) {
    if (a->total.v[COV_BUILDINGS] == 0) return -1;
    for (int c = 0; c < cov->n_defs; c++)
        if (cov->defs->defs[c].required && coverage_share(a, c) < cov->min_share - 1e-12) return 0;
    return 1;
}

int coverage_compute(GEOSContextHandle_t g, circles_data_t *d, const circles_defs_t *defs, circles_mode_t mode,
                     double min_share, coverage_t **out, char *err, size_t errlen) {
    double t0 = log_now();
    *out = NULL;
    if (mode == CIRCLES_NETWORK) {
        int rc = circles_data_network(g, d, err, errlen);
        if (rc) return rc;
    }
    coverage_t *cov = calloc(1, sizeof *cov);
    if (!cov) return GP_ENOMEM;
    int rc = GP_ENOMEM, nd = defs->n;
    cov->mode = mode;
    cov->min_share = min_share;
    cov->defs = defs;
    cov->n_defs = nd;
    cov->n_buildings = d->n_buildings;
    cov->n_communities = d->n_communities;
    cov->n_grids = d->n_grids;
    cov->covered = calloc((size_t)d->n_buildings * nd + 1, 1);
    cov->facilities = calloc((size_t)nd + 1, sizeof *cov->facilities);
    cov->unsnapped = calloc((size_t)nd + 1, sizeof *cov->unsnapped);
    cov->communities = calloc((size_t)d->n_communities + 1, sizeof *cov->communities);
    cov->grids = calloc((size_t)d->n_grids + 1, sizeof *cov->grids);
    if (!cov->covered || !cov->facilities || !cov->unsnapped || !cov->communities || !cov->grids) goto end;
    if (coverage_area_init(&cov->city, nd) || coverage_area_init(&cov->unassigned, nd)) goto end;
    for (int i = 0; i < d->n_communities; i++)
        if (coverage_area_init(&cov->communities[i], nd)) goto end;
    for (int i = 0; i < d->n_grids; i++)
        if (coverage_area_init(&cov->grids[i], nd)) goto end;
    for (int c = 0; c < nd; c++) {
        rc = coverage_circle(d, defs, c, mode, cov->covered, &cov->facilities[c], &cov->unsnapped[c]);
        if (rc) { err_set(err, errlen, rc, "circle %s: coverage failed (%s)", defs->defs[c].id, err_name(rc)); goto end; }
    }
    for (int b = 0; b < d->n_buildings; b++) {
        const circles_building_t *bd = &d->buildings[b];
        coverage_area_t *areas[3] = {&cov->city, bd->community >= 0 ? &cov->communities[bd->community] : &cov->unassigned,
                                     bd->grid >= 0 ? &cov->grids[bd->grid] : NULL};
        for (int a = 0; a < 3; a++) {
            if (!areas[a]) continue;
            coverage_add(&areas[a]->total, bd);
            for (int c = 0; c < nd; c++)
                if (cov->covered[(size_t)b * nd + c]) coverage_add(&areas[a]->covered[c], bd);
        }
    }
    cov->city.life_circle = coverage_life_circle(cov, &cov->city);
    cov->unassigned.life_circle = coverage_life_circle(cov, &cov->unassigned);
    for (int i = 0; i < d->n_communities; i++) cov->communities[i].life_circle = coverage_life_circle(cov, &cov->communities[i]);
    for (int i = 0; i < d->n_grids; i++) cov->grids[i].life_circle = coverage_life_circle(cov, &cov->grids[i]);
    rc = GP_OK;
end:
    cov->seconds = log_now() - t0;
    if (rc) {
        if (err && !*err) err_set(err, errlen, rc, "coverage: %s", err_name(rc));
        coverage_free(cov);
    } else {
        *out = cov;
    }
    return rc;
}

void coverage_free(coverage_t *cov) {
    if (!cov) return;
    free(cov->city.covered);
    free(cov->unassigned.covered);
    for (int i = 0; cov->communities && i < cov->n_communities; i++) free(cov->communities[i].covered);
    for (int i = 0; cov->grids && i < cov->n_grids; i++) free(cov->grids[i].covered);
    free(cov->communities);
    free(cov->grids);
    free(cov->covered);
    free(cov->facilities);
    free(cov->unsnapped);
    free(cov);
}

/* ---- Output ------------------------------------------------------------------------------------ */

static int coverage_counts_json(const coverage_counts_t *c, buf_t *out) {
    int rc = 0;
    for (int k = 0; k < COV_N && !rc; k++)
        rc = buf_printf(out, "%s\"%s\":%lld", k ? "," : "", coverage_count_names[k], (long long)c->v[k]);
    return rc;
}

static int coverage_area_json(const coverage_t *cov, const coverage_area_t *a, buf_t *out) {
    int rc = buf_puts(out, "\"totals\":{");
    if (!rc) rc = coverage_counts_json(&a->total, out);
    if (!rc) rc = buf_puts(out, "},\"circles\":{");
    for (int c = 0; c < cov->n_defs && !rc; c++) {
        rc = buf_printf(out, "%s", c ? "," : "");
        if (!rc) rc = buf_json_string(out, cov->defs->defs[c].id);
        if (!rc) rc = buf_puts(out, ":{");
        if (!rc) rc = coverage_counts_json(&a->covered[c], out);
        if (!rc) rc = buf_puts(out, ",\"share\":");
        if (!rc) rc = buf_double(out, coverage_share(a, c), 4);
        if (!rc) rc = buf_puts(out, "}");
    }
    if (!rc) rc = buf_printf(out, "},\"life_circle_complete\":%s,\"missing\":[",
                             a->life_circle < 0 ? "null" : a->life_circle ? "true" : "false");
    int first = 1;
    for (int c = 0; c < cov->n_defs && !rc; c++) {
        if (!cov->defs->defs[c].required || a->total.v[COV_BUILDINGS] == 0 || coverage_share(a, c) >= cov->min_share - 1e-12)
            continue;
        rc = buf_puts(out, first ? "" : ",");
        if (!rc) rc = buf_json_string(out, cov->defs->defs[c].id);
        first = 0;
    }
    if (!rc) rc = buf_puts(out, "]");
    return rc;
}

int coverage_json(const coverage_t *cov, const circles_data_t *d, int what, int only_def, buf_t *out) {
    int rc = buf_printf(out, "{\"mode\":\"%s\",\"crs_metric\":\"EPSG:%d\",\"min_share\":", circles_mode_name(cov->mode), d->epsg);
    if (!rc) rc = buf_double(out, cov->min_share, 4);
    if (!rc) rc = buf_puts(out, ",\"network_buffer_m\":");
    if (!rc) rc = buf_double(out, cov->defs->network_buffer_m, 1);
    if (!rc) rc = buf_puts(out, ",\"seconds\":");
    if (!rc) rc = buf_double(out, cov->seconds, 3);
    if (!rc) rc = buf_puts(out, ",\"circles\":[");
    for (int c = 0; c < cov->n_defs && !rc; c++) {
        const circles_def_t *def = &cov->defs->defs[c];
        rc = buf_puts(out, c ? ",{\"id\":" : "{\"id\":");
        if (!rc) rc = buf_json_string(out, def->id);
        if (!rc) rc = buf_puts(out, ",\"label\":");
        if (!rc) rc = buf_json_string(out, def->label);
        if (!rc) rc = buf_puts(out, ",\"radius_m\":");
        if (!rc) rc = buf_double(out, def->radius_m, 1);
        if (!rc) rc = buf_puts(out, ",\"budget_m\":");
        if (!rc) rc = buf_double(out, circles_def_budget_m(def), 1);
        if (!rc) rc = buf_printf(out, ",\"required\":%s,\"facilities\":%d,\"unsnapped\":%d,\"facility_types\":[",
                                 def->required ? "true" : "false", cov->facilities[c], cov->unsnapped[c]);
        for (int t = 0; t < def->n_types && !rc; t++) {
            rc = buf_puts(out, t ? "," : "");
            if (!rc) rc = buf_json_string(out, def->facility_types[t]);
        }
        if (!rc) rc = buf_puts(out, "]}");
    }
    if (!rc) rc = buf_puts(out, "],\"city\":{");
    if (!rc) rc = coverage_area_json(cov, &cov->city, out);
    if (!rc) rc = buf_puts(out, "},\"unassigned\":{");
    if (!rc) rc = coverage_area_json(cov, &cov->unassigned, out);
    if (!rc) rc = buf_puts(out, "}");
    for (int level = 0; level < 2 && !rc; level++) {
        if (!(what & (level ? COVERAGE_GRIDS : COVERAGE_COMMUNITIES))) continue;
        const circles_area_t *areas = level ? d->grids : d->communities;
        const coverage_area_t *rows = level ? cov->grids : cov->communities;
        int n = level ? cov->n_grids : cov->n_communities;
        rc = buf_printf(out, ",\"%s\":[", level ? "grids" : "communities");
        for (int i = 0; i < n && !rc; i++) {
            rc = buf_puts(out, i ? ",{\"code\":" : "{\"code\":");
            if (!rc) rc = buf_json_string(out, areas[i].code);
            if (!rc) rc = buf_puts(out, ",\"name\":");
            if (!rc) rc = buf_json_string(out, areas[i].name);
            if (!rc) rc = buf_puts(out, ",");
            if (!rc) rc = coverage_area_json(cov, &rows[i], out);
            if (!rc) rc = buf_puts(out, "}");
        }
        if (!rc) rc = buf_puts(out, "]");
    }
    if (!rc && (what & COVERAGE_UNCOVERED)) {
        rc = buf_puts(out, ",\"uncovered\":[");
        int first = 1;
        for (int b = 0; b < d->n_buildings && !rc; b++) {
            const circles_building_t *bd = &d->buildings[b];
            int miss = 0;
            for (int c = 0; c < cov->n_defs; c++)
                if ((only_def < 0 || c == only_def) && !coverage_is_covered(cov, b, c)) miss++;
            if (!miss) continue;
            rc = buf_printf(out, "%s{\"fid\":%lld,\"lon\":", first ? "" : ",", (long long)bd->fid);
            first = 0;
            if (!rc) rc = buf_double(out, bd->lon, 7);
            if (!rc) rc = buf_puts(out, ",\"lat\":");
            if (!rc) rc = buf_double(out, bd->lat, 7);
            if (!rc) rc = buf_printf(out, ",\"households\":%lld,\"population\":%lld,\"community_code\":", (long long)bd->households,
                                     (long long)bd->population);
            if (!rc) rc = buf_json_string(out, bd->community_code);
            if (!rc) rc = buf_puts(out, ",\"grid_code\":");
            if (!rc) rc = buf_json_string(out, bd->grid_code);
            if (!rc) rc = buf_puts(out, ",\"missing\":[");
            int mfirst = 1;
            for (int c = 0; c < cov->n_defs && !rc; c++) {
                if ((only_def >= 0 && c != only_def) || coverage_is_covered(cov, b, c)) continue;
                rc = buf_puts(out, mfirst ? "" : ",");
                if (!rc) rc = buf_json_string(out, cov->defs->defs[c].id);
                mfirst = 0;
            }
            if (!rc) rc = buf_puts(out, "]}");
        }
        if (!rc) rc = buf_puts(out, "]");
    }
    if (!rc) rc = buf_puts(out, "}\n");
    return rc;
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static int coverage_csv_field(buf_t *out, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) return buf_puts(out, s);
    int rc = buf_puts(out, "\"");
    for (const char *p = s; *p && !rc; p++) rc = *p == '"' ? buf_puts(out, "\"\"") : buf_append(out, p, 1);
    return rc ? rc : buf_puts(out, "\"");
}

static int coverage_csv_row(const coverage_t *cov, const char *code, const char *name, const coverage_area_t *a, buf_t *out) {
    int rc = coverage_csv_field(out, code);
    if (!rc) rc = buf_puts(out, ",");
    if (!rc) rc = coverage_csv_field(out, name);
    for (int k = 0; k < COV_N && !rc; k++) rc = buf_printf(out, ",%lld", (long long)a->total.v[k]);
    for (int c = 0; c < cov->n_defs && !rc; c++) {
        for (int k = 0; k < COV_N && !rc; k++) rc = buf_printf(out, ",%lld", (long long)a->covered[c].v[k]);
        if (!rc) rc = buf_puts(out, ",");
        if (!rc) rc = buf_double(out, coverage_share(a, c), 4);
    }
    if (!rc) rc = buf_puts(out, a->life_circle < 0 ? "," : a->life_circle ? ",yes" : ",no");
    if (!rc) rc = buf_puts(out, "\r\n");
    return rc;
}

int coverage_csv(const coverage_t *cov, const circles_data_t *d, int what, int only_def, buf_t *out) {
    int rc = buf_puts(out, "\xEF\xBB\xBF");
    if (!rc && (what & COVERAGE_UNCOVERED)) {
        rc = buf_puts(out, "fid,lon,lat,households,population,community_code,grid_code,missing\r\n");
        for (int b = 0; b < d->n_buildings && !rc; b++) {
            const circles_building_t *bd = &d->buildings[b];
            buf_t miss = {0};
            for (int c = 0; c < cov->n_defs && !rc; c++)
                if ((only_def < 0 || c == only_def) && !coverage_is_covered(cov, b, c))
                    rc = buf_printf(&miss, "%s%s", miss.len ? " " : "", cov->defs->defs[c].id);
            if (!rc && miss.len) {
                rc = buf_printf(out, "%lld,%.7f,%.7f,%lld,%lld,", (long long)bd->fid, bd->lon, bd->lat, (long long)bd->households,
                                (long long)bd->population);
                if (!rc) rc = coverage_csv_field(out, bd->community_code);
                if (!rc) rc = buf_puts(out, ",");
                if (!rc) rc = coverage_csv_field(out, bd->grid_code);
                if (!rc) rc = buf_printf(out, ",%s\r\n", miss.data);
            }
            buf_free(&miss);
        }
        return rc;
    }
    if (!rc) rc = buf_puts(out, "code,name");
    for (int k = 0; k < COV_N && !rc; k++) rc = buf_printf(out, ",%s", coverage_count_names[k]);
    for (int c = 0; c < cov->n_defs && !rc; c++) {
        for (int k = 0; k < COV_N && !rc; k++) rc = buf_printf(out, ",%s_%s", cov->defs->defs[c].id, coverage_count_names[k]);
        if (!rc) rc = buf_printf(out, ",%s_share", cov->defs->defs[c].id);
    }
    if (!rc) rc = buf_puts(out, ",life_circle_complete\r\n");
    int grids = (what & COVERAGE_GRIDS) != 0;
    int n = grids ? cov->n_grids : cov->n_communities;
    for (int i = 0; i < n && !rc; i++) {
        const circles_area_t *a = grids ? &d->grids[i] : &d->communities[i];
        rc = coverage_csv_row(cov, a->code, a->name, grids ? &cov->grids[i] : &cov->communities[i], out);
    }
    if (!rc && cov->unassigned.total.v[COV_BUILDINGS] > 0 && !grids)
        rc = coverage_csv_row(cov, "UNASSIGNED", "", &cov->unassigned, out);
    if (!rc) rc = coverage_csv_row(cov, "TOTAL", "", &cov->city, out);
    return rc;
}

/* ---- Gap filling -------------------------------------------------------------------------------- */

typedef struct coverage_cand {
    double x, y, lon, lat;
    int64_t fid;
    int grid;            /* grid index for grid centroids, -1 for buildings */
    int *members;        /* uncovered buildings within the radius */
    int n_members;
    int64_t gain;        /* upper bound (lazy greedy) */
    int stamp;           /* round the gain was computed in */
} coverage_cand_t;

typedef struct coverage_collect {
    const circles_data_t *d;
    const int *ids;
    double x, y, r2;
    int *out;
    int n, cap;
} coverage_collect_t;

static int coverage_collect_visit(void *user, int item) {
    coverage_collect_t *s = user;
    const circles_building_t *b = &s->d->buildings[s->ids[item]];
    double dx = b->x - s->x, dy = b->y - s->y;
    if (dx * dx + dy * dy > s->r2) return 0;
    if (s->n == s->cap) {
        int nc = s->cap ? s->cap * 2 : 64;
        int *no = realloc(s->out, (size_t)nc * sizeof *no);
        if (!no) return GP_ENOMEM;
        s->out = no;
        s->cap = nc;
    }
    s->out[s->n++] = s->ids[item];
    return 0;
}

/* Orders candidates for the greedy: larger gain first, buildings before grids, then fid/code. */
static int coverage_cand_better(const circles_data_t *d, const coverage_cand_t *a, const coverage_cand_t *b) {
    if (a->gain != b->gain) return a->gain > b->gain;
    if ((a->grid < 0) != (b->grid < 0)) return a->grid < 0;
    if (a->grid < 0) return a->fid < b->fid;
    return strcmp(d->grids[a->grid].code, d->grids[b->grid].code) < 0;
}

int coverage_gaps(GEOSContextHandle_t g, const circles_data_t *d, const coverage_t *cov, int def, const char **type, int k,
                  int candidates, int max_candidates, coverage_counts_t *before, coverage_gap_t **picks, int *npicks,
                  char *err, size_t errlen) {
    assert(def >= 0 && def < cov->n_defs);
    const circles_def_t *cd = &cov->defs->defs[def];
    *picks = NULL;
    *npicks = 0;
    int rc = GP_ENOMEM, nun = 0, ncand = 0;
    int *uncovered = malloc((size_t)(d->n_buildings + 1) * sizeof *uncovered);
    double *boxes = malloc((size_t)(d->n_buildings + 1) * 4 * sizeof *boxes);
    unsigned char *now = calloc((size_t)d->n_buildings + 1, 1);
    coverage_cand_t *cand = NULL;
    coverage_gap_t *out = calloc((size_t)(k > 0 ? k : 1), sizeof *out);
    roadnet_index_t ix = {0};
    if (!uncovered || !boxes || !now || !out) goto end;
    /* Which facility type the new sites would be: the one asked for; with "all" semantics and
     * several types, the type the most households lack; otherwise the circle as a whole. */
    if (*type && !circles_def_has_type(cd, *type)) {
        rc = err_set(err, errlen, GP_EINVAL, "circle %s has no facility type '%s'", cd->id, *type);
        free(uncovered);
        free(boxes);
        free(now);
        free(out);
        return rc;
    }
    if (!*type && cd->match_all && cd->n_types > 1) {
        int64_t worst = -1;
        for (int t = 0; t < cd->n_types; t++) {
            if ((rc = coverage_straight(d, cd, cd->facility_types[t], now))) goto end;
            int64_t lacking = 0;
            for (int b = 0; b < d->n_buildings; b++) lacking += now[b] ? 0 : d->buildings[b].households;
            if (lacking > worst) { worst = lacking; *type = cd->facility_types[t]; }
        }
    } else if (!*type && cd->n_types == 1) {
        *type = cd->facility_types[0];
    }
    if (*type && cd->n_types > 1) {
        if ((rc = coverage_straight(d, cd, *type, now))) goto end;
    } else {
        for (int b = 0; b < d->n_buildings; b++) now[b] = (unsigned char)coverage_is_covered(cov, b, def);
    }
    rc = GP_ENOMEM;
    memset(before, 0, sizeof *before);
    for (int b = 0; b < d->n_buildings; b++)
        if (now[b]) coverage_add(before, &d->buildings[b]);
    for (int b = 0; b < d->n_buildings; b++) {
        if (now[b]) continue;
        boxes[4 * nun] = boxes[4 * nun + 2] = d->buildings[b].x;
        boxes[4 * nun + 1] = boxes[4 * nun + 3] = d->buildings[b].y;
        uncovered[nun++] = b;
    }
    if (max_candidates <= 0) max_candidates = 2000;
    int from_buildings = (candidates & COVERAGE_CAND_BUILDINGS) ? nun : 0;
    int from_grids = (candidates & COVERAGE_CAND_GRIDS) ? d->n_grids : 0;
    cand = calloc((size_t)(from_buildings + from_grids + 1), sizeof *cand);
    if (!cand) goto end;
    /* Even sampling of uncovered buildings keeps the work bounded on a big city while still
     * spreading candidates over every gap. */
    double step = from_buildings > max_candidates ? (double)from_buildings / max_candidates : 1;
    for (double p = 0; from_buildings && (int)p < from_buildings; p += step) {
        const circles_building_t *b = &d->buildings[uncovered[(int)p]];
        cand[ncand++] = (coverage_cand_t){.x = b->x, .y = b->y, .lon = b->lon, .lat = b->lat, .fid = b->fid, .grid = -1};
    }
    for (int i = 0; i < from_grids; i++) {
        GEOSGeometry *p = GEOSPointOnSurface_r(g, d->grids[i].geom);
        double x, y;
        if (!p) continue;
        int ok = GEOSGeomGetX_r(g, p, &x) && GEOSGeomGetY_r(g, p, &y);
        GEOSGeom_destroy_r(g, p);
        if (!ok) continue;
        double lon = x, lat = y;
        if (srs_xy(d->to_lonlat, &lon, &lat)) continue;
        cand[ncand++] = (coverage_cand_t){.x = x, .y = y, .lon = lon, .lat = lat, .fid = -1, .grid = i};
    }
    if (nun > 0 && (rc = roadnet_index_build(&ix, boxes, nun, cd->radius_m))) goto end;
    double r = cd->radius_m;
    for (int i = 0; i < ncand && nun > 0; i++) {
        coverage_collect_t s = {.d = d, .ids = uncovered, .x = cand[i].x, .y = cand[i].y, .r2 = r * r};
        if (roadnet_index_query(&ix, s.x - r, s.y - r, s.x + r, s.y + r, coverage_collect_visit, &s)) {
            free(s.out);
            rc = GP_ENOMEM;
            goto end;
        }
        cand[i].members = s.out;
        cand[i].n_members = s.n;
        for (int m = 0; m < s.n; m++) cand[i].gain += d->buildings[s.out[m]].households;
    }
    /* Greedy maximal covering. Gains only shrink as buildings get covered, so a candidate whose
     * recomputed gain still beats every stale bound is the true best (lazy evaluation). */
    int round;
    for (round = 1; round <= k; round++) {
        int best = -1;
        for (;;) {
            best = -1;
            for (int i = 0; i < ncand; i++)
                if (best < 0 || coverage_cand_better(d, &cand[i], &cand[best])) best = i;
            if (best < 0 || cand[best].stamp == round) break;
            int64_t gain = 0;
            for (int m = 0; m < cand[best].n_members; m++)
                if (!now[cand[best].members[m]]) gain += d->buildings[cand[best].members[m]].households;
            cand[best].gain = gain;
            cand[best].stamp = round;
        }
        if (best < 0 || cand[best].gain <= 0) break;
        coverage_gap_t *gp = &out[round - 1];
        coverage_cand_t *c = &cand[best];
        gp->kind = c->grid < 0 ? "building" : "grid";
        gp->fid = c->fid;
        if (c->grid >= 0) snprintf(gp->grid_code, sizeof gp->grid_code, "%s", d->grids[c->grid].code);
        gp->lon = c->lon;
        gp->lat = c->lat;
        for (int m = 0; m < c->n_members; m++) {
            int b = c->members[m];
            if (now[b]) continue;
            now[b] = 1;
            coverage_add(&gp->added, &d->buildings[b]);
        }
        c->gain = 0;
        c->stamp = round;
    }
    *npicks = round - 1;
    *picks = out;
    out = NULL;
    rc = GP_OK;
end:
    if (rc) err_set(err, errlen, rc, "gaps for %s: %s", cd->id, err_name(rc));
    for (int i = 0; cand && i < ncand; i++) free(cand[i].members);
    free(cand);
    free(out);
    free(uncovered);
    free(boxes);
    free(now);
    roadnet_index_free(&ix);
    return rc;
}

int coverage_gaps_json(const coverage_t *cov, int def, const char *type, const coverage_counts_t *before,
                       const coverage_gap_t *picks, int npicks, buf_t *out) {
    const circles_def_t *cd = &cov->defs->defs[def];
    coverage_counts_t after = *before;
    int rc = buf_puts(out, "{\"circle\":");
    if (!rc) rc = buf_json_string(out, cd->id);
    if (!rc) rc = buf_puts(out, ",\"facility_type\":");
    if (!rc) rc = type ? buf_json_string(out, type) : buf_puts(out, "null");
    if (!rc) rc = buf_printf(out, ",\"mode\":\"%s\",\"radius_m\":", circles_mode_name(cov->mode));
    if (!rc) rc = buf_double(out, cd->radius_m, 1);
    if (!rc) rc = buf_puts(out, ",\"total\":{");
    if (!rc) rc = coverage_counts_json(&cov->city.total, out);
    if (!rc) rc = buf_puts(out, "},\"before\":{");
    if (!rc) rc = coverage_counts_json(&after, out);
    if (!rc) rc = buf_puts(out, "},\"sites\":[");
    for (int i = 0; i < npicks && !rc; i++) {
        const coverage_gap_t *p = &picks[i];
        for (int k = 0; k < COV_N; k++) after.v[k] += p->added.v[k];
        rc = buf_printf(out, "%s{\"rank\":%d,\"kind\":\"%s\",", i ? "," : "", i + 1, p->kind);
        if (!rc) rc = p->fid >= 0 ? buf_printf(out, "\"fid\":%lld", (long long)p->fid) : buf_puts(out, "\"grid_code\":");
        if (!rc && p->fid < 0) rc = buf_json_string(out, p->grid_code);
        if (!rc) rc = buf_puts(out, ",\"lon\":");
        if (!rc) rc = buf_double(out, p->lon, 7);
        if (!rc) rc = buf_puts(out, ",\"lat\":");
        if (!rc) rc = buf_double(out, p->lat, 7);
        if (!rc) rc = buf_puts(out, ",\"added\":{");
        if (!rc) rc = coverage_counts_json(&p->added, out);
        if (!rc) rc = buf_puts(out, "}}");
    }
    if (!rc) rc = buf_puts(out, "],\"after\":{");
    if (!rc) rc = coverage_counts_json(&after, out);
    if (!rc) rc = buf_puts(out, "}}\n");
    return rc;
}
