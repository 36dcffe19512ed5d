/* cmd_merge.c — `gridplan merge CODE`: merge a small community into a neighbour; preview or apply. */
#include "cli.h"
#include "err.h"
#include "plan_cli.h"
#include <stdio.h>
#include <string.h>

int cmd_merge(int argc, char **argv) {
    const char *db = cli_default_db(), *profile = NULL, *sets = NULL, *into = NULL;
    int apply = 0, json = 0, first;
    const cli_opt_t opts[] = {{"db", 's', &db, "database file"},
                              {"profile", 's', &profile, "rule profile (default: the database's, else hohhot-2023)"},
                              {"set", 's', &sets, "override numbers: key.path=value[,...]"},
                              {"into", 's', &into, "merge into this neighbour (default: chosen)"},
                              {"apply", 'f', &apply, "write the merge (one undoable changeset); default is a preview"},
                              {"json", 'f', &json, "print {applied, changeset, features, merge} JSON"},
                              {0}};
    int pr = cli_parse("gridplan merge CODE [--into CODE] [--apply] [--json]",
                       "Merges a community into the adjacent one (shared boundary, not a corner) that keeps the result "
                       "inside the band, preferring the same street and the longest shared boundary.",
                       opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    if (first != argc - 1) return cli_fail("merge needs exactly one community code (see --help)");
    const char *code = argv[first];
    plan_session_t s;
    if (plan_session_open(&s, db, apply, profile, sets)) { plan_session_close(&s); return 1; }
    int rc = 1, c = plan_city_find(&s.city, code), to = -1;
    plan_city_t after = {0};
    plan_merge_t m = {0};
    buf_t out = {0};
    char err[1024];
    rules_band_t band;
    rules_community_band(s.rules, &band);
    if (c < 0) { cli_fail("no community %s in %s", code, db); goto end; }
    if (into && (to = plan_city_find(&s.city, into)) < 0) { cli_fail("no community %s in %s", into, db); goto end; }
    if (plan_city_clone(s.g, &s.city, &after)) { cli_fail("out of memory"); goto end; }
    int mrc = plan_city_merge(&s.ctx, &after, c, to, &band, &m, err, sizeof err);
    if (mrc) {
        if (json) printf("{\"applied\":false,\"changeset\":null,\"error\":\"%s\",\"description\":", err_name(mrc));
        if (json) {
            buf_json_string(&out, err);
            printf("%s}\n", out.data);
        }
        cli_fail("%s", err);
        rc = mrc == GP_EINFEASIBLE ? 3 : 1;
        goto end;
    }
    const char *into_code = s.city.comms[m.into].code;
    plan_city_compact(&after);
    int64_t changeset = 0;
    if (apply) {
        char summary[256];
        snprintf(summary, sizeof summary, "{\"community\":\"%s\",\"into\":\"%s\"}", code, into_code);
        if (plan_io_apply_city(s.st, s.g, &s.city, &after, plan_session_user(), "merge", summary, &changeset, err, sizeof err)) {
            cli_fail("%s", err);
            goto end;
        }
    }
    if (json) {
        plan_part_t merged = {.geom = m.geom, .households = m.households, .population = m.population, .seq = 1,
                              .contiguous = GEOSGeomTypeId_r(s.g, m.geom) == GEOS_POLYGON, .valid = 1,
                              .in_band = m.households >= band.min && m.households <= band.max};
        snprintf(merged.code, sizeof merged.code, "%s", into_code);
    plan_part_measure(&s.ctx, &merged, NULL, 0);
        buf_printf(&out, "{\"applied\":%s,\"changeset\":", apply ? "true" : "false");
        if (apply) buf_printf(&out, "%lld", (long long)changeset);
        else buf_puts(&out, "null");
        buf_puts(&out, ",\"features\":");
        plan_parts_geojson(s.g, &merged, 1, &out);
        buf_printf(&out, ",\"merge\":{\"community\":\"%s\",\"into\":\"%s\",\"shared_boundary_m\":%.1f,\"same_street\":%s,"
                         "\"households\":%ld,\"area_ratio\":%.3g}}\n",
                   code, into_code, m.shared_m, m.same_street ? "true" : "false", m.households, m.area_ratio);
    } else {
        buf_printf(&out, "%s %s (%ld households) into %s: %ld households together, %.0f m shared boundary, %s street\n",
                   apply ? "merged" : "preview: merge", code, s.city.comms[c].households, into_code, m.households,
                   m.shared_m, m.same_street ? "same" : "another");
        if (apply) buf_printf(&out, "applied as changeset %lld\n", (long long)changeset);
        else buf_puts(&out, "nothing written (add --apply to write)\n");
    }
    fwrite(out.data, 1, out.len, stdout);
    rc = 0;
end:
    GEOSGeom_destroy_r(s.g, m.geom);
    buf_free(&out);
    plan_city_free(s.g, &after);
    plan_session_close(&s);
    return rc;
}
