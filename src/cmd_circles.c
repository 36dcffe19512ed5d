/* cmd_circles.c — `gridplan circles`, `gridplan coverage`, `gridplan gaps`: service circles, who they
 * reach, and where new sites would help. Data come from a database (--db) or GeoJSON files. */
#include "circles.h"
#include "cli.h"
#include "coverage.h"
#include "err.h"
#include "log.h"
#include "store.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Options every circles command shares; defaults set by circles_cli_init. */
typedef struct circles_cli {
    const char *db, *profile, *set, *mode, *out;
    const char *paths[CIRCLES_N_LAYERS];
    int node_crossings;
} circles_cli_t;

#define CIRCLES_CLI_OPTS(c)                                                                                      \
    {"db", 's', &(c).db, "database file (ignored when GeoJSON files are given)"},                               \
    {"profile", 's', &(c).profile, "rule profile name or JSON file (default: the database's, else hohhot-2023)"}, \
    {"set", 's', &(c).set, "overrides, e.g. life_15min.radius_m=800,network_buffer_m=40"},                       \
    {"mode", 's', &(c).mode, "straight or network (along the roads)"},                                          \
    {"facilities", 's', &(c).paths[CIRCLES_LAYER_FACILITIES], "GeoJSON facilities instead of --db"},             \
    {"buildings", 's', &(c).paths[CIRCLES_LAYER_BUILDINGS], "GeoJSON buildings"},                                \
    {"communities", 's', &(c).paths[CIRCLES_LAYER_COMMUNITIES], "GeoJSON communities"},                          \
    {"grids", 's', &(c).paths[CIRCLES_LAYER_GRIDS], "GeoJSON grids"},                                            \
    {"roads", 's', &(c).paths[CIRCLES_LAYER_ROADS], "GeoJSON roads (network mode)"},                             \
    {"node-crossings", 'f', &(c).node_crossings, "treat every road crossing as a junction (sketches; not OSM)"}, \
    {"out", 's', &(c).out, "write to this file instead of stdout"}

static void circles_cli_init(circles_cli_t *c) {
    memset(c, 0, sizeof *c);
    c->db = cli_default_db();
    c->mode = "straight";
}

/* Loads the definitions (with overrides) and the data; returns 0 or the exit status after printing. */
static int circles_cli_setup(circles_cli_t *c, GEOSContextHandle_t g, circles_defs_t **defs, circles_data_t **d,
                             circles_mode_t *mode) {
    char err[512] = "";
    *defs = NULL;
    *d = NULL;
    if (!strcmp(c->mode, "network")) *mode = CIRCLES_NETWORK;
    else if (!strcmp(c->mode, "straight")) *mode = CIRCLES_STRAIGHT;
    else return cli_fail("--mode: expected straight or network, not '%s'", c->mode);
    char source[600] = "";
    if (c->profile && circles_defs_load(c->profile, defs, source, sizeof source, err, sizeof err)) return cli_fail("%s", err);
    int files = 0;
    for (int k = 0; k < CIRCLES_N_LAYERS; k++) files |= c->paths[k] != NULL;
    if (!*defs && files && circles_defs_load(NULL, defs, source, sizeof source, err, sizeof err)) return cli_fail("%s", err);
    double t0 = log_now();
    if (files) {
        int skipped = 0;
        if (circles_data_load_geojson(g, c->paths, d, &skipped, err, sizeof err)) return cli_fail("%s", err);
        if (skipped) log_info("facilities: %d features skipped (no type and no known OSM category)", skipped);
    } else {
        store_t *st;
        if (store_open(c->db, STORE_READONLY, &st, err, sizeof err)) return cli_fail("%s", err);
        int rc = *defs ? GP_OK : circles_defs_for_store(st, defs, source, sizeof source, err, sizeof err);
        if (!rc) rc = circles_data_load(g, st, d, err, sizeof err);
        store_close(st);
        if (rc) return cli_fail("%s", err);
    }
    if (*source) log_info("circle rules: %s", source);
    if (c->set && circles_defs_set(*defs, c->set, err, sizeof err)) return cli_fail("--set: %s", err);
    (*d)->node_crossings = c->node_crossings;
    log_info("loaded %d facilities, %d buildings, %d communities, %d grids, %d roads in %.2f s (metric CRS EPSG:%d)",
             (*d)->n_facilities, (*d)->n_buildings, (*d)->n_communities, (*d)->n_grids, (*d)->n_roads, log_now() - t0, (*d)->epsg);
    if (*mode == CIRCLES_NETWORK) {
        t0 = log_now();
        if (circles_data_network(g, *d, err, sizeof err)) return cli_fail("%s", err);
        log_info("road graph: %d nodes, %d edges, %.1f km in %.2f s", roadnet_node_count((*d)->net),
                 roadnet_edge_count((*d)->net), roadnet_length((*d)->net) / 1000, log_now() - t0);
    }
    return 0;
}

static int circles_cli_write(const circles_cli_t *c, const buf_t *b) {
    FILE *f = c->out ? fopen(c->out, "wb") : stdout;
    if (!f) return cli_fail("%s: cannot write", c->out);
    size_t n = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int bad = n != b->len;
    if (c->out) bad |= fclose(f) != 0;
    else fflush(stdout);
    return bad ? cli_fail("%s: write failed", c->out ? c->out : "stdout") : 0;
}

int cmd_circles(int argc, char **argv) {
    circles_cli_t c;
    circles_cli_init(&c);
    const char *circle = NULL, *per = "type";
    const cli_opt_t opts[] = {CIRCLES_CLI_OPTS(c),
                              {"circle", 's', &circle, "only this circle id (default: all)"},
                              {"per", 's', &per, "facility, type (dissolved) or community"},
                              {0}};
    int first;
    int pr = cli_parse("gridplan circles [--db FILE] [--circle ID] [--per facility|type|community] [--mode straight|network]",
                       "Prints the service circles as GeoJSON (lon/lat): one per facility, dissolved per circle type, or "
                       "per circle type and community.", opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    int per_kind = !strcmp(per, "facility") ? CIRCLES_PER_FACILITY : !strcmp(per, "type") ? CIRCLES_PER_TYPE
                 : !strcmp(per, "community") ? CIRCLES_PER_COMMUNITY : -1;
    if (per_kind < 0) return cli_fail("--per: expected facility, type or community, not '%s'", per);
    GEOSContextHandle_t g = geo_ctx_new();
    circles_defs_t *defs;
    circles_data_t *d;
    circles_mode_t mode;
    int rc = circles_cli_setup(&c, g, &defs, &d, &mode);
    if (!rc) {
        buf_t out = {0};
        char err[512] = "";
        double t0 = log_now();
        if (circles_geojson(g, d, defs, circle, mode, per_kind, &out, err, sizeof err)) rc = cli_fail("%s", err);
        else {
            buf_puts(&out, "\n");
            log_info("circles (%s, per %s) in %.2f s", circles_mode_name(mode), per, log_now() - t0);
            rc = circles_cli_write(&c, &out);
        }
        buf_free(&out);
    }
    circles_data_free(g, d);
    circles_defs_free(defs);
    geo_ctx_free(g);
    return rc;
}

static int circles_cli_find(const circles_defs_t *defs, const char *id) {
    for (int i = 0; id && i < defs->n; i++)
        if (!strcmp(defs->defs[i].id, id)) return i;
    return -1;
}

/* The human-readable summary: one line per circle, then the life circle check. */
static void coverage_text(const coverage_t *cov, const circles_data_t *d, buf_t *out) {
    buf_printf(out, "mode %s (metric CRS EPSG:%d), %d buildings, %lld households, %lld population\n", circles_mode_name(cov->mode),
               d->epsg, d->n_buildings, (long long)cov->city.total.v[COV_HOUSEHOLDS], (long long)cov->city.total.v[COV_POPULATION]);
    buf_printf(out, "%-15s %-9s %9s %10s %12s %7s %s\n", "circle", "reach_m", "sites", "households", "of_total", "share", "label");
    for (int c = 0; c < cov->n_defs; c++) {
        const circles_def_t *def = &cov->defs->defs[c];
        buf_printf(out, "%-15s %-9.0f %9d %10lld %12lld %6.1f%% %s\n", def->id,
                   cov->mode == CIRCLES_NETWORK ? circles_def_budget_m(def) : def->radius_m, cov->facilities[c],
                   (long long)cov->city.covered[c].v[COV_HOUSEHOLDS], (long long)cov->city.total.v[COV_HOUSEHOLDS],
                   100 * coverage_share(&cov->city, c), def->label);
    }
    int pass = 0, assessed = 0;
    for (int i = 0; i < cov->n_communities; i++) {
        if (cov->communities[i].life_circle < 0) continue;
        assessed++;
        pass += cov->communities[i].life_circle;
    }
    buf_printf(out, "complete life circle (every required circle reaches >= %.0f%% of households): %d of %d communities\n",
               100 * cov->min_share, pass, assessed);
}

int cmd_coverage(int argc, char **argv) {
    circles_cli_t c;
    circles_cli_init(&c);
    const char *by = "community", *format = "text", *circle = NULL;
    int uncovered = 0;
    double min_share = 1.0;
    const cli_opt_t opts[] = {CIRCLES_CLI_OPTS(c),
                              {"by", 's', &by, "community, grid or both (rows in JSON/CSV)"},
                              {"format", 's', &format, "text, json or csv"},
                              {"uncovered", 'f', &uncovered, "list the buildings a circle misses (JSON/CSV)"},
                              {"circle", 's', &circle, "with --uncovered: only buildings missing this circle"},
                              {"min-share", 'd', &min_share, "share of a community's households each required circle must reach"},
                              {0}};
    int first;
    int pr = cli_parse("gridplan coverage [--db FILE] [--format text|json|csv] [--by community|grid|both] [--uncovered]",
                       "Households, population and special groups inside each service circle, per community, grid and "
                       "city; the complete life circle check; uncovered buildings.", opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    int what = !strcmp(by, "community") ? COVERAGE_COMMUNITIES : !strcmp(by, "grid") ? COVERAGE_GRIDS
             : !strcmp(by, "both") ? COVERAGE_COMMUNITIES | COVERAGE_GRIDS : 0;
    if (!what) return cli_fail("--by: expected community, grid or both, not '%s'", by);
    if (strcmp(format, "text") && strcmp(format, "json") && strcmp(format, "csv"))
        return cli_fail("--format: expected text, json or csv, not '%s'", format);
    if (!strcmp(format, "csv") && what == (COVERAGE_COMMUNITIES | COVERAGE_GRIDS))
        return cli_fail("--by both: CSV holds one kind of row; use community or grid");
    if (!(min_share >= 0 && min_share <= 1)) return cli_fail("--min-share: expected a number in [0, 1]");
    GEOSContextHandle_t g = geo_ctx_new();
    circles_defs_t *defs;
    circles_data_t *d;
    circles_mode_t mode;
    coverage_t *cov = NULL;
    buf_t out = {0};
    char err[512] = "";
    int rc = circles_cli_setup(&c, g, &defs, &d, &mode);
    if (rc) goto end;
    int only = circles_cli_find(defs, circle);
    if (circle && only < 0) { rc = cli_fail("--circle: unknown circle '%s'", circle); goto end; }
    if (coverage_compute(g, d, defs, mode, min_share, &cov, err, sizeof err)) { rc = cli_fail("%s", err); goto end; }
    log_info("coverage (%s) of %d circles in %.3f s", circles_mode_name(mode), cov->n_defs, cov->seconds);
    if (uncovered) what |= COVERAGE_UNCOVERED;
    if (!strcmp(format, "json")) coverage_json(cov, d, what, only, &out);
    else if (!strcmp(format, "csv")) coverage_csv(cov, d, uncovered ? COVERAGE_UNCOVERED : what, only, &out);
    else coverage_text(cov, d, &out);
    rc = circles_cli_write(&c, &out);
end:
    buf_free(&out);
    coverage_free(cov);
    circles_data_free(g, d);
    circles_defs_free(defs);
    geo_ctx_free(g);
    return rc;
}

int cmd_gaps(int argc, char **argv) {
    circles_cli_t c;
    circles_cli_init(&c);
    const char *circle = NULL, *candidates = "both", *format = "text", *type = NULL;
    int k = 5, max_candidates = 2000;
    const cli_opt_t opts[] = {CIRCLES_CLI_OPTS(c),
                              {"circle", 's', &circle, "the circle to fill (required), e.g. health_10min"},
                              {"type", 's', &type, "facility type of the new sites (default: the one most households lack)"},
                              {"k", 'i', &k, "number of new sites to suggest"},
                              {"candidates", 's', &candidates, "buildings (uncovered ones), grids (centroids) or both"},
                              {"max-candidates", 'i', &max_candidates, "sample uncovered buildings down to this many"},
                              {"format", 's', &format, "text or json"},
                              {0}};
    int first;
    int pr = cli_parse("gridplan gaps --circle ID [--k 5] [--candidates buildings|grids|both] [--db FILE]",
                       "Suggests up to k new sites for a circle, each adding the most newly covered households "
                       "(greedy maximal covering; new sites reach radius_m in a straight line).", opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    if (!circle) return cli_fail("--circle is required (e.g. --circle health_10min)");
    if (k < 1 || k > 1000) return cli_fail("--k: expected 1..1000");
    int cand = !strcmp(candidates, "buildings") ? COVERAGE_CAND_BUILDINGS : !strcmp(candidates, "grids") ? COVERAGE_CAND_GRIDS
             : !strcmp(candidates, "both") ? COVERAGE_CAND_BUILDINGS | COVERAGE_CAND_GRIDS : 0;
    if (!cand) return cli_fail("--candidates: expected buildings, grids or both, not '%s'", candidates);
    if (strcmp(format, "text") && strcmp(format, "json")) return cli_fail("--format: expected text or json");
    GEOSContextHandle_t g = geo_ctx_new();
    circles_defs_t *defs;
    circles_data_t *d;
    circles_mode_t mode;
    coverage_t *cov = NULL;
    coverage_gap_t *picks = NULL;
    coverage_counts_t before;
    int npicks = 0;
    buf_t out = {0};
    char err[512] = "";
    int rc = circles_cli_setup(&c, g, &defs, &d, &mode);
    if (rc) goto end;
    int def = circles_cli_find(defs, circle);
    if (def < 0) { rc = cli_fail("--circle: unknown circle '%s'", circle); goto end; }
    if (coverage_compute(g, d, defs, mode, 1.0, &cov, err, sizeof err) ||
        coverage_gaps(g, d, cov, def, &type, k, cand, max_candidates, &before, &picks, &npicks, err, sizeof err)) {
        rc = cli_fail("%s", err);
        goto end;
    }
    if (!strcmp(format, "json")) {
        coverage_gaps_json(cov, def, type, &before, picks, npicks, &out);
    } else {
        int64_t covered = before.v[COV_HOUSEHOLDS], total = cov->city.total.v[COV_HOUSEHOLDS];
        buf_printf(&out, "%s (%s), new %s sites: %lld of %lld households reached now (%s mode)\n", defs->defs[def].id,
                   defs->defs[def].label, type ? type : "any-type", (long long)covered, (long long)total, circles_mode_name(mode));
        buf_printf(&out, "%-4s %-9s %-16s %12s %11s %10s %10s\n", "rank", "kind", "fid/grid", "lon", "lat", "+households", "total");
        for (int i = 0; i < npicks; i++) {
            char id[40];
            if (picks[i].fid >= 0) snprintf(id, sizeof id, "%lld", (long long)picks[i].fid);
            else snprintf(id, sizeof id, "%s", picks[i].grid_code);
            covered += picks[i].added.v[COV_HOUSEHOLDS];
            buf_printf(&out, "%-4d %-9s %-16s %12.7f %11.7f %10lld %10lld\n", i + 1, picks[i].kind, id, picks[i].lon, picks[i].lat,
                       (long long)picks[i].added.v[COV_HOUSEHOLDS], (long long)covered);
        }
        if (npicks < k) buf_printf(&out, "(%d of %d sites: no further site adds a household)\n", npicks, k);
    }
    rc = circles_cli_write(&c, &out);
end:
    buf_free(&out);
    free(picks);
    coverage_free(cov);
    circles_data_free(g, d);
    circles_defs_free(defs);
    geo_ctx_free(g);
    return rc;
}
