/* plan_cli.h — what every planning subcommand opens: database, GEOS context, profile, city. */
#ifndef GP_PLAN_CLI_H
#define GP_PLAN_CLI_H
#include "plan_io.h"

typedef struct plan_session {
    store_t *st;
    GEOSContextHandle_t g;
    plan_ctx_t ctx;
    rules_t *rules;
    plan_city_t city;
} plan_session_t;

/* Opens db (read-only unless `write`), loads the profile — `profile` (name or file), else the
 * database's meta.profile, else hohhot-2023 — applies `sets` ("a.b=1,c.d=ceil"), and loads the
 * city. Returns 0 or prints "gridplan: <why>" and returns 1 (the exit status). */
int plan_session_open(plan_session_t *s, const char *db, int write, const char *profile, const char *sets);
/* Loads only the profile (no database): for `gridplan rules`. */
int plan_session_rules(plan_session_t *s, const char *profile, const char *sets);
void plan_session_close(plan_session_t *s);

/* The user recorded in changesets: $GRIDPLAN_USER, $USER, or "cli". */
const char *plan_session_user(void);
/* Writes text to path ("-" or NULL: stdout). Returns 0 or 1 after printing the failure. */
int plan_write_text(const char *path, const char *text, size_t len);

#endif
