/* plan_cli.c — shared set-up for the planning subcommands (cmd_rules.c ... cmd_diff.c). */
#include "plan_cli.h"
#include "cli.h"
#include "err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int plan_session_rules(plan_session_t *s, const char *profile, const char *sets) {
    char err[512];
    if (rules_load(profile, &s->rules, err, sizeof err)) return cli_fail("%s", err);
    if (sets && *sets) {
        char *copy = strdup(sets), *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
            if (rules_set(s->rules, tok, err, sizeof err)) {
                free(copy);
                return cli_fail("%s", err);
            }
        free(copy);
    }
    return 0;
}

int plan_session_open(plan_session_t *s, const char *db, int write, const char *profile, const char *sets) {
    char err[512];
    memset(s, 0, sizeof *s);
    if (store_open(db, write ? STORE_READWRITE : STORE_READONLY, &s->st, err, sizeof err)) return cli_fail("%s", err);
    char meta_profile[256] = "";
    if (!profile || !*profile) {
        if (store_meta_get(s->st, "profile", meta_profile, sizeof meta_profile) == 0 && *meta_profile) profile = meta_profile;
    }
    if (plan_session_rules(s, profile, sets)) return 1;
    s->g = geo_ctx_new();
    plan_ctx_init(&s->ctx, s->g);
    if (plan_io_load(s->st, s->g, &s->city, err, sizeof err)) return cli_fail("%s", err);
    return 0;
}

void plan_session_close(plan_session_t *s) {
    if (s->g) plan_city_free(s->g, &s->city);
    plan_ctx_release(&s->ctx);
    geo_ctx_free(s->g);
    rules_free(s->rules);
    store_close(s->st);
    memset(s, 0, sizeof *s);
}

const char *plan_session_user(void) {
    const char *u = getenv("GRIDPLAN_USER");
    if (!u || !*u) u = getenv("USER");
    return u && *u ? u : "cli";
}

int plan_write_text(const char *path, const char *text, size_t len) {
    if (!path || !strcmp(path, "-")) {
        fwrite(text, 1, len, stdout);
        return 0;
    }
    FILE *f = fopen(path, "wb");
    if (!f) return cli_fail("%s: cannot write", path);
    int ok = fwrite(text, 1, len, f) == len;
    ok &= fclose(f) == 0;
    return ok ? 0 : cli_fail("%s: write failed", path);
}
