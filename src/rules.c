/* rules.c — loading, inheriting, overriding and printing rule profiles.
 *
 * Profiles are small (a few kB), so everything is a json_t tree: inheritance is a deep merge of the
 * child onto a copy of its base, in which every inherited leaf's source is first rewritten to say
 * where it came from. Lookups walk the tree by dotted path; nothing is cached because the planner
 * reads each number once per run. */
#include "rules.h"
#include "err.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RULES_DEFAULT "hohhot-2023"
#define RULES_MAX_DEPTH 8

struct rules {
    json_t *root;   /* merged profile, owned */
    char name[128];
};

static int is_leaf(const json_t *j) { return json_is_object(j) && json_object_get(j, "value") != NULL; }

/* Finds the file of a shipped profile; fills path or returns GP_ENOTFOUND. */
static int find_profile(const char *name, char *path, size_t pathlen) {
    char dirs[5][PATH_MAX];
    int ndirs = 0;
    const char *env = getenv("GRIDPLAN_PROFILES");
    if (env && *env) snprintf(dirs[ndirs++], PATH_MAX, "%s", env);
    snprintf(dirs[ndirs++], PATH_MAX, "geodata/profiles");
    char exe[PATH_MAX - 64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? (exe[n] = 0, strrchr(exe, '/')) : NULL;
    if (slash) {
        *slash = 0;
        /* build/gridplan, build/tests/test_x and build/asan/tests/test_x all sit under the root. */
        static const char *const ups[] = {"..", "../..", "../../.."};
        for (int i = 0; i < 3; i++) {
            int w = snprintf(dirs[ndirs], PATH_MAX, "%s/%s/geodata/profiles", exe, ups[i]);
            if (w > 0 && w < PATH_MAX) ndirs++;
        }
    }
    for (int i = 0; i < ndirs; i++) {
        int w = snprintf(path, pathlen, "%s/%s.json", dirs[i], name);
        if (w > 0 && (size_t)w < pathlen && access(path, R_OK) == 0) return 0;
    }
    return GP_ENOTFOUND;
}

/* Rewrites every leaf's source under j to "inherited from <base>: <source>". */
static void mark_inherited(json_t *j, const char *base) {
    if (is_leaf(j)) {
        const char *src = json_string_value(json_object_get(j, "source"));
        char buf[1024];
        snprintf(buf, sizeof buf, "inherited from %s: %s", base, src ? src : "");
        json_object_set_new(j, "source", json_string(buf));
        return;
    }
    if (!json_is_object(j)) return;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) mark_inherited(v, base);
}

/* Merges child onto base (both owned by the caller; base is modified). A child leaf or scalar
 * replaces the base's; a bare number in a child becomes a leaf sourced to `origin`. */
static void merge_into(json_t *base, json_t *child, const char *origin) {
    const char *key;
    json_t *v;
    json_object_foreach(child, key, v) {
        json_t *old = json_object_get(base, key);
        if (json_is_object(v) && !is_leaf(v) && json_is_object(old) && !is_leaf(old)) {
            merge_into(old, v, origin);
        } else if ((json_is_number(v) || json_is_string(v)) && is_leaf(old)) {
            json_t *leaf = json_pack("{s:O,s:s+}", "value", v, "source", "set in ", origin);
            json_object_set_new(base, key, leaf);
        } else {
            json_object_set(base, key, v);
        }
    }
}

static int load_tree(const char *name_or_file, int depth, json_t **out, char *err, size_t errlen);

static int build_from_json(json_t *child, const char *origin, int depth, json_t **out, char *err, size_t errlen) {
    if (!json_is_object(child)) return err_set(err, errlen, GP_EINVAL, "profile %s: not a JSON object", origin);
    const char *inherits = json_string_value(json_object_get(child, "inherits"));
    json_t *merged;
    if (inherits) {
        int rc = load_tree(inherits, depth + 1, &merged, err, errlen);
        if (rc) return rc;
        const char *base_name = json_string_value(json_object_get(merged, "name"));
        mark_inherited(merged, base_name ? base_name : inherits);
    } else {
        merged = json_object();
    }
    merge_into(merged, child, origin);
    *out = merged;
    return 0;
}

static int load_tree(const char *name_or_file, int depth, json_t **out, char *err, size_t errlen) {
    if (depth > RULES_MAX_DEPTH)
        return err_set(err, errlen, GP_EINVAL, "profile %s: \"inherits\" chain deeper than %d (a cycle?)", name_or_file,
                       RULES_MAX_DEPTH);
    char path[PATH_MAX];
    size_t len = strlen(name_or_file);
    if (strchr(name_or_file, '/') || (len > 5 && !strcmp(name_or_file + len - 5, ".json"))) {
        snprintf(path, sizeof path, "%s", name_or_file);
    } else if (find_profile(name_or_file, path, sizeof path)) {
        return err_set(err, errlen, GP_ENOTFOUND,
                       "profile '%s' not found (looked in $GRIDPLAN_PROFILES, geodata/profiles and next to the binary)",
                       name_or_file);
    }
    json_error_t je;
    json_t *child = json_load_file(path, 0, &je);
    if (!child) {
        if (access(path, R_OK) != 0) return err_set(err, errlen, GP_ENOTFOUND, "profile file %s: cannot be read", path);
        return err_set(err, errlen, GP_EINVAL, "profile file %s: line %d: %s", path, je.line, je.text);
    }
    int rc = build_from_json(child, path, depth, out, err, errlen);
    json_decref(child);
    return rc;
}

static int finish(json_t *tree, const char *fallback_name, rules_t **out, char *err, size_t errlen) {
    rules_t *r = calloc(1, sizeof *r);
    if (!r) {
        json_decref(tree);
        return err_set(err, errlen, GP_ENOMEM, "out of memory loading a profile");
    }
    r->root = tree;
    const char *name = json_string_value(json_object_get(tree, "name"));
    snprintf(r->name, sizeof r->name, "%s", name ? name : fallback_name);
    /* A band whose bottom is above its top can't be planned against: refuse it here, once. */
    rules_band_t b;
    rules_community_band(r, &b);
    rules_band_t g;
    rules_grid_band(r, &g);
    if (b.min < 0 || b.min > b.max || g.min < 0 || g.min > g.max || g.target < g.min || g.target > g.max) {
        rules_free(r);
        return err_set(err, errlen, GP_EINVAL, "profile %s: band bottom above top (community %ld–%ld, grid %ld–%ld, target %ld)",
                       fallback_name, b.min, b.max, g.min, g.max, g.target);
    }
    *out = r;
    return 0;
}

int rules_load(const char *name_or_file, rules_t **out, char *err, size_t errlen) {
    if (!name_or_file || !*name_or_file) name_or_file = RULES_DEFAULT;
    json_t *tree;
    int rc = load_tree(name_or_file, 0, &tree, err, errlen);
    if (rc) return rc;
    return finish(tree, name_or_file, out, err, errlen);
}

int rules_load_string(const char *text, const char *origin, rules_t **out, char *err, size_t errlen) {
    json_error_t je;
    json_t *child = json_loads(text, 0, &je);
    if (!child) return err_set(err, errlen, GP_EINVAL, "profile %s: line %d: %s", origin, je.line, je.text);
    json_t *tree;
    int rc = build_from_json(child, origin, 0, &tree, err, errlen);
    json_decref(child);
    if (rc) return rc;
    return finish(tree, origin, out, err, errlen);
}

/* Walks a dotted path; returns the node (borrowed) or NULL. */
static json_t *lookup(json_t *root, const char *path) {
    char key[128];
    json_t *node = root;
    while (node && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof key) return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        node = json_object_get(node, key);
        path += n + (dot ? 1 : 0);
    }
    return node;
}

int rules_set(rules_t *r, const char *assignment, char *err, size_t errlen) {
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment || !eq[1])
        return err_set(err, errlen, GP_EINVAL, "--set %s: expected key.path=value", assignment);
    char path[256];
    size_t n = (size_t)(eq - assignment);
    if (n >= sizeof path) return err_set(err, errlen, GP_EINVAL, "--set %s: key too long", assignment);
    memcpy(path, assignment, n);
    path[n] = 0;
    json_t *leaf = lookup(r->root, path);
    json_t *value = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
    if (!value || json_is_object(value) || json_is_array(value)) {
        json_decref(value);
        value = json_string(eq + 1);
    }
    char source[512];
    snprintf(source, sizeof source, "override: --set %s", assignment);
    if (is_leaf(leaf)) {
        json_object_set_new(leaf, "value", value);
        json_object_set_new(leaf, "source", json_string(source));
    } else if (leaf && !json_is_object(leaf) && !json_is_array(leaf)) {
        /* A plain scalar (a circle's "minutes"): replace it in its parent. */
        char parent_path[256];
        snprintf(parent_path, sizeof parent_path, "%s", path);
        char *dot = strrchr(parent_path, '.');
        json_t *parent = dot ? (*dot = 0, lookup(r->root, parent_path)) : r->root;
        json_object_set_new(parent, dot ? dot + 1 : path, value);
    } else {
        json_decref(value);
        return err_set(err, errlen, GP_ENOTFOUND, "--set %s: profile %s has no number '%s'", assignment, r->name, path);
    }
    rules_band_t b, g;
    rules_community_band(r, &b);
    rules_grid_band(r, &g);
    if (b.min > b.max || g.min > g.max || g.target < g.min || g.target > g.max)
        return err_set(err, errlen, GP_EINVAL, "--set %s: leaves a band whose bottom is above its top", assignment);
    return 0;
}

void rules_free(rules_t *r) {
    if (!r) return;
    json_decref(r->root);
    free(r);
}

const json_t *rules_json(const rules_t *r) { return r->root; }
const char *rules_name(const rules_t *r) { return r->name; }

static const json_t *leaf_value(const rules_t *r, const char *path) {
    json_t *node = lookup(r->root, path);
    return is_leaf(node) ? json_object_get(node, "value") : node;
}

double rules_num(const rules_t *r, const char *path, double dflt) {
    const json_t *v = leaf_value(r, path);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

const char *rules_str(const rules_t *r, const char *path, const char *dflt) {
    const json_t *v = leaf_value(r, path);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

const char *rules_source(const rules_t *r, const char *path) {
    json_t *node = lookup(r->root, path);
    const char *s = is_leaf(node) ? json_string_value(json_object_get(node, "source")) : NULL;
    return s ? s : "";
}

static int print_tree(const json_t *node, char *path, size_t pathlen, int json, int *count, buf_t *out) {
    const char *key;
    json_t *v;
    size_t base = strlen(path);
    json_object_foreach((json_t *)node, key, v) {
        if (!strcmp(key, "name") || !strcmp(key, "label") || !strcmp(key, "inherits")) {
            if (base == 0) continue;
        }
        snprintf(path + base, pathlen - base, "%s%s", base ? "." : "", key);
        if (json_is_object(v) && !is_leaf(v)) {
            print_tree(v, path, pathlen, json, count, out);
        } else {
            const json_t *value = is_leaf(v) ? json_object_get(v, "value") : v;
            const char *source = is_leaf(v) ? json_string_value(json_object_get(v, "source")) : "";
            char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
            if (json) {
                buf_printf(out, "%s{\"path\":", (*count)++ ? "," : "");
                buf_json_string(out, path);
                buf_printf(out, ",\"value\":%s,\"source\":", text ? text : "null");
                buf_json_string(out, source ? source : "");
                buf_puts(out, "}");
            } else {
                buf_printf(out, "%-38s %-12s %s\n", path, text ? text : "null", source ? source : "");
            }
            free(text);
        }
        path[base] = 0;
    }
    return 0;
}

int rules_print(const rules_t *r, int json, buf_t *out) {
    char path[256] = "";
    int count = 0;
    if (json) {
        buf_puts(out, "{\"name\":");
        buf_json_string(out, r->name);
        buf_puts(out, ",\"values\":[");
        print_tree(r->root, path, sizeof path, 1, &count, out);
        char *whole = json_dumps(r->root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        buf_printf(out, "],\"profile\":%s}\n", whole ? whole : "null");
        free(whole);
    } else {
        const char *label = json_string_value(json_object_get(r->root, "label"));
        buf_printf(out, "profile %s%s%s\n%-38s %-12s %s\n", r->name, label ? " — " : "", label ? label : "", "number",
                   "value", "source");
        print_tree(r->root, path, sizeof path, 0, &count, out);
    }
    return out->data ? 0 : GP_ENOMEM;
}

void rules_community_band(const rules_t *r, rules_band_t *out) {
    out->min = lround(rules_num(r, "community.band_min", 1000));
    out->max = lround(rules_num(r, "community.band_max", 3000));
    out->target = lround(rules_num(r, "community.target", (double)(out->min + out->max) / 2));
    out->split_above = lround(rules_num(r, "community.split_above", (double)out->max));
    out->merge_below = lround(rules_num(r, "community.merge_below", (double)out->min));
}

void rules_grid_band(const rules_t *r, rules_band_t *out) {
    out->min = lround(rules_num(r, "grid.min_households", 150));
    out->max = lround(rules_num(r, "grid.max_households", 500));
    out->target = lround(rules_num(r, "grid.target_households", 300));
    out->split_above = out->max;
    out->merge_below = out->min;
}
