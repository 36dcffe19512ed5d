/* rules.h — rule profiles: the planning numbers of docs/rules.md as data, each with its source.
 *
 * A profile is a JSON file geodata/profiles/<name>.json. Every number is a leaf object
 * {"value": V, "source": "where the number comes from"}. A profile names a base with "inherits"
 * (city profiles inherit "national"); leaves it does not state come from the base and their source
 * says so ("inherited from national: ..."). A user file may inherit a shipped profile and override
 * any leaf (a bare number is accepted and sourced to the file), and rules_set() overrides one
 * leaf from the command line. The parsed json_t is kept so other modules (service circles) can read
 * their own sections through rules_json(). A rules_t is read-only after loading: share it freely. */
#ifndef GP_RULES_H
#define GP_RULES_H
#include <jansson.h>
#include <stddef.h>
#include "buf.h"

typedef struct rules rules_t;

/* Loads profile `name_or_file`: a path when it contains '/' or ends in ".json", else a shipped
 * profile name looked up in $GRIDPLAN_PROFILES, ./geodata/profiles and <binary>/../../geodata/profiles.
 * NULL means "hohhot-2023" (the default profile). Returns 0 and *out (free with rules_free), or
 * GP_ENOTFOUND / GP_EINVAL with err naming the file and the problem. */
int rules_load(const char *name_or_file, rules_t **out, char *err, size_t errlen);

/* Builds a profile from JSON text (used by tests and by rules_load). `origin` names the text in
 * messages and sources (a file name); "inherits" names are looked up as rules_load does. */
int rules_load_string(const char *text, const char *origin, rules_t **out, char *err, size_t errlen);

/* Overrides one leaf: "community.band_max=3500", "police.rounding=floor". The value is parsed as a
 * JSON scalar when it can be, else taken as a string. Source becomes "override: --set <assignment>".
 * GP_ENOTFOUND when the path names no leaf of the profile, GP_EINVAL on a malformed assignment. */
int rules_set(rules_t *r, const char *assignment, char *err, size_t errlen);

void rules_free(rules_t *r);  /* accepts NULL */

/* The whole merged profile, borrowed (valid until rules_free). Leaves keep the {"value","source"} shape. */
const json_t *rules_json(const rules_t *r);
const char *rules_name(const rules_t *r);

/* Value of the leaf at a dotted path ("grid.target_households"), or dflt when absent/not a number. */
double rules_num(const rules_t *r, const char *path, double dflt);
/* String value of a leaf, or dflt. Borrowed. */
const char *rules_str(const rules_t *r, const char *path, const char *dflt);
/* The source sentence of a leaf, or "" when absent. Borrowed. */
const char *rules_source(const rules_t *r, const char *path);

/* Appends every leaf as "path  value  source" lines (json=0) or as a JSON object
 * {"name":..,"values":[{"path","value","source"}...],"profile":<merged json>} (json=1). */
int rules_print(const rules_t *r, int json, buf_t *out);

/* The numbers the planner uses, read once from a profile. */
typedef struct rules_band {
    long min, max;        /* households: a part must lie in [min, max] */
    long target;          /* preferred size; (min+max)/2 when the profile gives none */
    long split_above;     /* split when households > split_above */
    long merge_below;     /* merge when households < merge_below */
} rules_band_t;

void rules_community_band(const rules_t *r, rules_band_t *out);
void rules_grid_band(const rules_t *r, rules_band_t *out);

#endif
