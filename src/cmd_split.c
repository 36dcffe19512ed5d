/* cmd_split.c — `gridplan split CODE`: split one community along whole buildings; preview or apply. */
#include "cli.h"
#include "plan_cli.h"
#include <stdio.h>
#include <string.h>

int cmd_split(int argc, char **argv) {
    const char *db = cli_default_db(), *profile = NULL, *sets = NULL, *geojson = NULL;
    int parts = 0, apply = 0, json = 0, first;
    const cli_opt_t opts[] = {{"db", 's', &db, "database file"},
                              {"profile", 's', &profile, "rule profile (default: the database's, else hohhot-2023)"},
                              {"set", 's', &sets, "override numbers: key.path=value[,...]"},
                              {"parts", 'i', &parts, "number of parts (0: chosen from the band)"},
                              {"apply", 'f', &apply, "write the split (one undoable changeset); default is a preview"},
                              {"json", 'f', &json, "print {applied, changeset, features, quality} JSON"},
                              {"geojson", 's', &geojson, "also write the parts as a GeoJSON file"},
                              {0}};
    int pr = cli_parse("gridplan split CODE [--parts K] [--apply] [--json]",
                       "Splits a community into K contiguous parts of whole buildings inside the profile's band.", opts,
                       argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    if (first != argc - 1) return cli_fail("split needs exactly one community code (see --help)");
    const char *code = argv[first];
    plan_session_t s;
    if (plan_session_open(&s, db, apply, profile, sets)) { plan_session_close(&s); return 1; }
    int rc = 1, c = plan_city_find(&s.city, code);
    plan_city_t after = {0};
    plan_split_t *sp = NULL;
    buf_t out = {0};
    char err[1024], codes[256];
    rules_band_t band;
    rules_community_band(s.rules, &band);
    if (c < 0) { cli_fail("no community %s in %s", code, db); goto end; }
    if (plan_city_clone(s.g, &s.city, &after)) { cli_fail("out of memory"); goto end; }
    if (plan_city_split(&s.ctx, &after, c, parts, &band, &sp, codes, sizeof codes, err, sizeof err)) {
        cli_fail("%s", err);
        goto end;
    }
    int64_t changeset = 0;
    if (apply) {
        char summary[512];
        snprintf(summary, sizeof summary, "{\"community\":\"%s\",\"parts\":%d,\"codes\":\"%s\"}", code, sp->k, codes);
        if (plan_io_apply_city(s.st, s.g, &s.city, &after, plan_session_user(), "split", summary, &changeset, err, sizeof err)) {
            cli_fail("%s", err);
            goto end;
        }
    }
    if (json) {
        buf_printf(&out, "{\"applied\":%s,\"changeset\":", apply ? "true" : "false");
        if (apply) buf_printf(&out, "%lld", (long long)changeset);
        else buf_puts(&out, "null");
        buf_puts(&out, ",\"features\":");
        plan_parts_geojson(s.g, sp->parts, (size_t)sp->k, &out);
        buf_puts(&out, ",\"quality\":");
        plan_quality_json(&sp->quality, &out);
        buf_puts(&out, ",\"reason\":");
        buf_json_string(&out, sp->reason);
        buf_puts(&out, "}\n");
    } else {
        buf_printf(&out, "%s %s into %d parts (profile %s, band %ld–%ld):\n", apply ? "split" : "preview: split", code, sp->k,
                   rules_name(s.rules), band.min, band.max);
        buf_printf(&out, "%-13s %10s %10s %9s %12s %6s %s\n", "code", "households", "population", "buildings", "area_m2",
                   "PP", "");
        for (int p = 0; p < sp->k; p++) {
            plan_part_t *pt = &sp->parts[p];
            buf_printf(&out, "%-13s %10ld %10ld %9d %12.0f %6.3f %s%s\n", pt->code, pt->households, pt->population,
                       pt->nbuildings, pt->area_m2, pt->polsby_popper, pt->in_band ? "" : "OUTSIDE BAND ",
                       pt->contiguous ? "" : "NOT ONE POLYGON");
        }
        plan_quality_text(&sp->quality, &out);
        if (sp->reason[0]) buf_printf(&out, "note: %s\n", sp->reason);
        if (apply) buf_printf(&out, "applied as changeset %lld (undo: gridplan undo %lld)\n", (long long)changeset,
                              (long long)changeset);
        else buf_puts(&out, "nothing written (add --apply to write)\n");
    }
    fwrite(out.data, 1, out.len, stdout);
    if (geojson) {
        buf_t g = {0};
        plan_parts_geojson(s.g, sp->parts, (size_t)sp->k, &g);
        if (plan_write_text(geojson, g.data, g.len)) { buf_free(&g); goto end; }
        buf_free(&g);
    }
    rc = sp->quality.outside_band > sp->quality.forced_by_building ? 3 : 0;
end:
    buf_free(&out);
    plan_split_free(s.g, sp);
    plan_city_free(s.g, &after);
    plan_session_close(&s);
    return rc;
}
