/* http_static.c — the web map's files (web/) over HTTP, and the page a browser gets at /.
 *
 * Only regular files under the configured directory are served, never dot-files or build
 * leftovers (node_modules, package*.json); the framework has already refused '..' segments, and
 * the resolved path must still lie inside the directory (no symlink escapes). Files are read per
 * request: they are small and the browser revalidates with the ETag the framework adds. */
#include "http.h"
#include "err.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STATIC_MAX_FILE (16u << 20)

static char static_root[PATH_MAX];   /* realpath of the web directory, "" when it does not exist */

static int static_init(const http_config_t *cfg, store_t *st, char *err, size_t errlen) {
    (void)st;
    (void)err;
    (void)errlen;
    const char *dir = cfg->web_dir && *cfg->web_dir ? cfg->web_dir : "web";
    if (!realpath(dir, static_root)) static_root[0] = '\0';
    return GP_OK;
}

static const char *static_type(const char *path) {
    static const struct { const char *ext, *type; } types[] = {
        {".html", "text/html; charset=utf-8"}, {".js", "application/javascript; charset=utf-8"},
        {".mjs", "application/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
        {".json", "application/json"}, {".png", "image/png"}, {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"}, {".woff2", "font/woff2"}, {".woff", "font/woff"}, {".map", "application/json"},
        {".txt", "text/plain; charset=utf-8"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(dot, types[i].ext)) return types[i].type;
    return "application/octet-stream";
}

static int static_allowed(const char *rel) {
    if (!*rel || strstr(rel, "node_modules") || !strncmp(rel, "package", 7)) return 0;
    for (const char *p = rel; *p; p++)
        if ((p == rel || p[-1] == '/') && *p == '.') return 0;   /* dot-files and dot-directories */
    return 1;
}

int http_static_file(http_req_t *req, http_res_t *res, const char *rel) {
    (void)req;
    if (!static_root[0]) return http_error(res, 404, "not found", "no web directory is configured (--web-dir)");
    if (!static_allowed(rel)) return http_error(res, 404, "not found", "no resource at /%.200s", rel);
    char path[PATH_MAX], real[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", static_root, rel) >= (int)sizeof path || !realpath(path, real))
        return http_error(res, 404, "not found", "no resource at /%.200s", rel);
    size_t rootlen = strlen(static_root);
    struct stat sb;
    if (strncmp(real, static_root, rootlen) || real[rootlen] != '/' || stat(real, &sb) || !S_ISREG(sb.st_mode))
        return http_error(res, 404, "not found", "no resource at /%.200s", rel);
    if ((size_t)sb.st_size > STATIC_MAX_FILE) return http_error(res, 404, "not found", "/%.200s is too large to serve", rel);
    FILE *f = fopen(real, "rb");
    if (!f) return err_set(res->err, sizeof res->err, GP_EIO, "/%.200s: %s", rel, strerror(errno));
    int rc = buf_reserve(&res->body, (size_t)sb.st_size);
    if (!rc) {
        res->body.len = fread(res->body.data, 1, (size_t)sb.st_size, f);
        res->body.data[res->body.len] = '\0';
        if (res->body.len != (size_t)sb.st_size) rc = err_set(res->err, sizeof res->err, GP_EIO, "/%.200s: short read", rel);
    }
    fclose(f);
    if (rc) return rc;
    res->content_type = static_type(real);
    http_res_header(res, "Cache-Control", "no-cache");
    return 0;
}

static int static_get(http_req_t *req, http_res_t *res) { return http_static_file(req, res, http_param(req, "path")); }

/* The catch-all comes last in http_modules.def, after every module's own routes. */
static const http_route_t static_routes[] = {
    {"GET", "/{*path}", static_get, AUTH_NONE},
    {NULL, NULL, NULL, 0}};

const http_module_t http_static_module = {
    .name = "static",
    .routes = static_routes,
    .init = static_init,
};
