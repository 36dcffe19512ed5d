/* config.c — key = value configuration files mapped onto cli_opt_t tables. */
#include "config.h"
#include "err.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct config {
    char **strings;
    int n, cap;
};

void config_free(config_t *cfg) {
    if (!cfg) return;
    for (int i = 0; i < cfg->n; i++) free(cfg->strings[i]);
    free(cfg->strings);
    free(cfg);
}

static char *config_keep(config_t *cfg, const char *s) {
    if (cfg->n == cfg->cap) {
        int cap = cfg->cap ? cfg->cap * 2 : 16;
        char **p = realloc(cfg->strings, (size_t)cap * sizeof *p);
        if (!p) return NULL;
        cfg->strings = p;
        cfg->cap = cap;
    }
    char *copy = strdup(s);
    if (copy) cfg->strings[cfg->n++] = copy;
    return copy;
}

static char *config_trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static int config_set(config_t *cfg, const cli_opt_t *o, const char *val, const char *path, int line, char *err, size_t errlen) {
    char *end = NULL;
    errno = 0;
    switch (o->type) {
    case 's': {
        char *copy = config_keep(cfg, val);
        if (!copy) return GP_ENOMEM;
        *(const char **)o->dest = copy;
        return GP_OK;
    }
    case 'f':
        if (!strcmp(val, "1") || !strcasecmp(val, "true") || !strcasecmp(val, "yes") || !strcasecmp(val, "on")) *(int *)o->dest = 1;
        else if (!strcmp(val, "0") || !strcasecmp(val, "false") || !strcasecmp(val, "no") || !strcasecmp(val, "off")) *(int *)o->dest = 0;
        else return err_set(err, errlen, GP_EINVAL, "%s:%d: '%s' expects true or false, got '%s'", path, line, o->name, val);
        return GP_OK;
    case 'i': { long v = strtol(val, &end, 10); *(int *)o->dest = (int)v; break; }
    case 'l': *(long long *)o->dest = strtoll(val, &end, 10); break;
    case 'd': *(double *)o->dest = strtod(val, &end); break;
    default: return GP_EINVAL;
    }
    if (errno || end == val || *end)
        return err_set(err, errlen, GP_EINVAL, "%s:%d: '%s' expects a number, got '%s'", path, line, o->name, val);
    return GP_OK;
}

int config_load(const char *path, const cli_opt_t *opts, config_t **out, char *err, size_t errlen) {
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return err_set(err, errlen, GP_EIO, "%s: %s", path, strerror(errno));
    config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg) { fclose(f); return GP_ENOMEM; }
    char raw[4096];
    int line = 0, rc = GP_OK;
    while (fgets(raw, sizeof raw, f)) {
        line++;
        char *s = config_trim(raw);
        if (!*s || *s == '#') continue;
        char *eq = strchr(s, '=');
        if (!eq) { rc = err_set(err, errlen, GP_EINVAL, "%s:%d: expected 'key = value'", path, line); break; }
        *eq = '\0';
        char *key = config_trim(s), *val = config_trim(eq + 1);
        size_t vlen = strlen(val);
        if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') { val[vlen - 1] = '\0'; val++; }
        const cli_opt_t *o = opts;
        while (o && o->name && strcmp(o->name, key)) o++;
        if (!o || !o->name || !strcmp(key, "config")) {
            rc = err_set(err, errlen, GP_EINVAL, "%s:%d: unknown key '%s'", path, line, key);
            break;
        }
        if ((rc = config_set(cfg, o, val, path, line, err, errlen))) break;
    }
    fclose(f);
    if (rc) { config_free(cfg); return rc; }
    *out = cfg;
    return GP_OK;
}

const char *config_flag(int argc, char **argv, const char *name) {
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) || strncmp(a + 2, name, n)) continue;
        if (a[2 + n] == '=') return a + 3 + n;
        if (a[2 + n] == '\0' && i + 1 < argc) return argv[i + 1];
    }
    return NULL;
}
