/* cmd_plan.c — `gridplan plan`: auto-plan the whole city (split above the line, merge below, leave
 * locked communities); preview by default, --apply writes one undoable changeset. */
#include "cli.h"
#include "plan_cli.h"
#include <stdio.h>
#include <string.h>

int cmd_plan(int argc, char **argv) {
    const char *db = cli_default_db(), *profile = NULL, *sets = NULL, *out_path = NULL, *geojson = NULL;
    int apply = 0, json = 0, first;
    const cli_opt_t opts[] = {{"db", 's', &db, "database file"},
                              {"profile", 's', &profile, "rule profile (default: the database's, else hohhot-2023)"},
                              {"set", 's', &sets, "override numbers: key.path=value[,...]"},
                              {"apply", 'f', &apply, "write the plan (one undoable changeset); default is a preview"},
                              {"json", 'f', &json, "print {applied, changeset, splits, merges, quality} JSON"},
                              {"out", 's', &out_path, "save the planned building -> community assignment (for gridplan diff)"},
                              {"geojson", 's', &geojson, "write the planned communities as GeoJSON"},
                              {0}};
    int pr = cli_parse("gridplan plan [--apply] [--json] [--out plan.json]",
                       "Splits every community above the profile's split line and merges every one below its merge line "
                       "into a fitting neighbour; locked communities are left untouched.",
                       opts, argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    plan_session_t s;
    if (plan_session_open(&s, db, apply, profile, sets)) { plan_session_close(&s); return 1; }
    int rc = 1;
    plan_auto_t *a = NULL;
    buf_t out = {0};
    char err[1024];
    if (plan_auto_run(&s.ctx, &s.city, s.rules, &a, err, sizeof err)) { cli_fail("%s", err); goto end; }
    int64_t changeset = 0;
    size_t nsplit = 0, nmerge = 0, failed = 0;
    for (size_t i = 0; i < a->nactions; i++) {
        if (!a->actions[i].ok) failed++;
        else if (!strcmp(a->actions[i].op, "split")) nsplit++;
        else nmerge++;
    }
    if (apply && nsplit + nmerge > 0) {
        char summary[256];
        snprintf(summary, sizeof summary, "{\"profile\":\"%s\",\"splits\":%zu,\"merges\":%zu}", rules_name(s.rules), nsplit,
                 nmerge);
        if (plan_io_apply_city(s.st, s.g, &s.city, &a->city, plan_session_user(), "plan", summary, &changeset, err,
                               sizeof err)) {
            cli_fail("%s", err);
            goto end;
        }
    }
    if (out_path) {
        buf_t plan = {0};
        plan_assignment_json(&a->city, rules_name(s.rules), &plan);
        int w = plan_write_text(out_path, plan.data, plan.len);
        buf_free(&plan);
        if (w) goto end;
    }
    if (geojson) {
        buf_t gj = {0};
        plan_city_geojson(s.g, &a->city, &gj);
        int w = plan_write_text(geojson, gj.data, gj.len);
        buf_free(&gj);
        if (w) goto end;
    }
    if (json) {
        buf_printf(&out, "{\"applied\":%s,\"changeset\":", apply && changeset ? "true" : "false");
        if (changeset) buf_printf(&out, "%lld,", (long long)changeset);
        else buf_puts(&out, "null,");
        plan_auto_json(a, &out);
        /* plan_auto_json wrote a whole object: splice it in by dropping its opening brace. */
        buf_t fixed = {0};
        const char *body = strstr(out.data, ",{\"splits\"");
        buf_append(&fixed, out.data, (size_t)(body - out.data) + 1);
        buf_puts(&fixed, body + 2);
        buf_puts(&fixed, "\n");
        buf_free(&out);
        out = fixed;
    } else {
        buf_printf(&out, "%s (profile %s): %zu splits, %zu merges, %zu not possible; %zu communities -> %zu\n",
                   apply ? "plan applied" : "plan preview", rules_name(s.rules), nsplit, nmerge, failed, s.city.ncomms,
                   a->city.ncomms);
        for (size_t i = 0; i < a->nactions; i++) {
            plan_action_t *x = &a->actions[i];
            if (!strcmp(x->op, "split"))
                buf_printf(&out, "  split %s (%ld households) %s%s%s\n", x->code, x->households, x->ok ? "-> " : "NOT DONE: ",
                           x->ok ? x->new_codes : x->reason, x->ok && x->reason[0] ? "" : "");
            else
                buf_printf(&out, "  merge %s (%ld households) %s%s%s%s\n", x->code, x->households,
                           x->ok ? "into " : "NOT DONE: ", x->ok ? x->into : x->reason, x->ok ? ": " : "",
                           x->ok ? x->reason : "");
        }
        plan_quality_text(&a->quality, &out);
        if (apply) {
            if (changeset) buf_printf(&out, "applied as changeset %lld\n", (long long)changeset);
            else buf_puts(&out, "nothing to change\n");
        } else {
            buf_puts(&out, "nothing written (add --apply to write)\n");
        }
    }
    fwrite(out.data, 1, out.len, stdout);
    rc = 0;
end:
    buf_free(&out);
    plan_auto_free(s.g, a);
    plan_session_close(&s);
    return rc;
}
