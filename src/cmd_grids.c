/* cmd_grids.c — `gridplan grids`: divide communities into coded grids of the profile's size. */
#include "cli.h"
#include "plan_cli.h"
#include <stdio.h>
#include <string.h>

int cmd_grids(int argc, char **argv) {
    const char *db = cli_default_db(), *profile = NULL, *sets = NULL, *community = NULL, *geojson = NULL;
    int apply = 0, json = 0, first;
    const cli_opt_t opts[] = {{"db", 's', &db, "database file"},
                              {"profile", 's', &profile, "rule profile (default: the database's, else hohhot-2023)"},
                              {"set", 's', &sets, "override numbers, e.g. grid.target_households=250"},
                              {"community", 's', &community, "only this community (default: all)"},
                              {"apply", 'f', &apply, "replace the stored grids (one undoable changeset)"},
                              {"json", 'f', &json, "print {applied, changeset, features, quality} JSON"},
                              {"geojson", 's', &geojson, "write the grids as GeoJSON"},
                              {0}};
    int pr = cli_parse("gridplan grids [--community CODE] [--apply] [--json]",
                       "Divides each community into grids of the profile's target households (band from the profile), "
                       "coded county(6)+street(3)+community(3)+grid(3), numbered in rows north to south, west to east.",
                       opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    plan_session_t s;
    if (plan_session_open(&s, db, apply, profile, sets)) { plan_session_close(&s); return 1; }
    int rc = 1, only = -1;
    plan_gridset_t *gs = NULL;
    buf_t out = {0};
    char err[1024];
    rules_band_t band;
    rules_grid_band(s.rules, &band);
    if (community && (only = plan_city_find(&s.city, community)) < 0) { cli_fail("no community %s in %s", community, db); goto end; }
    if (plan_grids_city(&s.ctx, &s.city, &band, only, &gs, err, sizeof err)) { cli_fail("%s", err); goto end; }
    int64_t changeset = 0;
    if (apply && plan_io_apply_grids(s.st, s.g, &s.city, gs, plan_session_user(), &changeset, err, sizeof err)) {
        cli_fail("%s", err);
        goto end;
    }
    long workers_per_grid = (long)rules_num(s.rules, "grid.workers_per_grid", 1);
    if (geojson) {
        buf_t gj = {0};
        plan_parts_geojson(s.g, gs->grids, gs->n, &gj);
        int w = plan_write_text(geojson, gj.data, gj.len);
        buf_free(&gj);
        if (w) goto end;
    }
    if (json) {
        buf_printf(&out, "{\"applied\":%s,\"changeset\":", apply ? "true" : "false");
        if (apply) buf_printf(&out, "%lld", (long long)changeset);
        else buf_puts(&out, "null");
        buf_puts(&out, ",\"features\":");
        plan_parts_geojson(s.g, gs->grids, gs->n, &out);
        buf_printf(&out, ",\"grid_workers\":%ld,\"quality\":", (long)gs->n * workers_per_grid);
        plan_quality_json(&gs->quality, &out);
        buf_puts(&out, "}\n");
    } else {
        int last = -1;
        for (size_t i = 0; i < gs->n; i++) {
            if (gs->grid_community[i] != last) {
                last = gs->grid_community[i];
                const plan_community_t *c = &s.city.comms[last];
                int k = 0;
                for (size_t j = i; j < gs->n && gs->grid_community[j] == last; j++) k++;
                buf_printf(&out, "%s %s: %ld households -> %d grids\n", c->code, c->name, c->households, k);
            }
            const plan_part_t *p = &gs->grids[i];
            buf_printf(&out, "  %s %6ld households  PP %.3f%s%s\n", p->code, p->households, p->polsby_popper,
                       p->in_band ? "" : "  OUTSIDE BAND", p->contiguous ? "" : "  NOT ONE POLYGON");
        }
        buf_printf(&out, "%zu grids, %ld grid workers (一格一员); %d communities kept whole (see warnings)\n", gs->n,
                   (long)gs->n * workers_per_grid, gs->failed);
        plan_quality_text(&gs->quality, &out);
        if (apply) buf_printf(&out, "applied as changeset %lld\n", (long long)changeset);
        else buf_puts(&out, "nothing written (add --apply to write)\n");
    }
    fwrite(out.data, 1, out.len, stdout);
    rc = 0;
end:
    buf_free(&out);
    plan_gridset_free(s.g, gs);
    plan_session_close(&s);
    return rc;
}
