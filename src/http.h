/* http.h — the HTTP server: libmicrohttpd thread pool, route table, per-worker contexts, helpers.
 *
 * Workload: many small GET requests (features, tiles) answered from a per-worker SQLite connection
 * or a shared cache, and rare writes. libmicrohttpd runs N pool threads, each with its own epoll
 * loop; N worker contexts (SQLite/SpatiaLite connection, GEOS context, module slots) are built
 * before the daemon starts, and each pool thread claims one on its first request and keeps it
 * (_Thread_local), so a handler never shares a connection or a GEOS context with another thread.
 *
 * A module plugs in with one http_module_t listed in http.c's module table: routes, optional
 * start-up and per-worker hooks, a "data changed" hook, and computed OGC collections.
 *
 * Handler contract: read the request through http_req_t and the lookup functions; fill the
 * http_res_t (status, content type, body or a zero-copy reference, ETag, headers); return 0, or a
 * negative GP_E* code with res->err filled and no body, and the framework answers with the JSON
 * error that code maps to (http_status_for). The framework then adds CORS headers, compares the
 * ETag with If-None-Match (304), gzips text bodies when the client accepts it, and logs the line. */
#ifndef GP_HTTP_H
#define GP_HTTP_H
#include <stddef.h>
#include <stdint.h>
#include <proj.h>
#include "auth.h"
#include "buf.h"
#include "geo.h"
#include "store.h"

#define HTTP_MAX_PARAMS 8
#define HTTP_MAX_HEADERS 8
#define HTTP_ERR_LEN 512

/* Module slots in every worker context: a module keeps its per-worker state (prepared statements,
 * scratch buffers, render surfaces) in w->slot[its index]. Add new indexes before HTTP_SLOT_MAX. */
enum {
    HTTP_SLOT_OGC = 0,
    HTTP_SLOT_EDIT,
    HTTP_SLOT_TILES,
    HTTP_SLOT_PLAN,
    HTTP_SLOT_CIRCLES,
    HTTP_SLOT_WEB,
    HTTP_SLOT_SPARE1,
    HTTP_SLOT_SPARE2,
    HTTP_SLOT_MAX
};

/* Server settings (cmd_serve fills them from the config file, then flags). Strings are borrowed
 * and must outlive the server. */
typedef struct http_config {
    const char *db;            /* database file (opened read-write by every worker) */
    const char *bind;          /* address to listen on, default "127.0.0.1" */
    int port;                  /* 0 picks a free port (http_port tells which) */
    int threads;               /* worker threads = worker contexts; default 2 */
    int timeout;               /* seconds of client inactivity before the connection is closed */
    int max_conns;             /* total connections */
    int per_ip;                /* connections per client address (0: no limit) */
    size_t max_body;           /* request body limit in bytes (413 above) */
    int read_role;             /* AUTH_NONE: reads are open; AUTH_VIEWER: reads need a token */
    const char *cors;          /* Access-Control-Allow-Origin value, or NULL/"" for no CORS */
    const char *access_log;    /* file path, "-" for stderr, NULL/"" or "off" for none */
    const char *tiles_dir;     /* on-disk tile cache directory (for the tiles module) */
    int gzip_level;            /* zlib level 1..9 for gzip responses */
    const char *web_dir;       /* the web map's files (http_static.c), default "web" */
} http_config_t;

/* Fills defaults: 127.0.0.1:8080, 2 threads, 30 s timeout, 512 connections, 64 per IP, 8 MiB body,
 * open reads, no CORS, access log on stderr, tiles/, gzip level 4. */
void http_config_defaults(http_config_t *cfg);

typedef struct http_server http_server_t;

/* One worker context: owned by exactly one pool thread once claimed. */
typedef struct http_worker {
    int index;                      /* 0 .. threads-1 */
    http_server_t *server;
    const http_config_t *config;
    store_t *store;                 /* this worker's SQLite/SpatiaLite connection */
    GEOSContextHandle_t geos;       /* this worker's GEOS context */
    PJ_CONTEXT *proj;               /* this worker's PROJ context */
    void *token_stmt;               /* auth_lookup's cached statement */
    buf_t scratch;                  /* reusable scratch buffer, emptied by whoever uses it */
    void *slot[HTTP_SLOT_MAX];      /* per-module state, see HTTP_SLOT_* */
} http_worker_t;

/* A request, valid for the duration of the handler call. */
typedef struct http_req {
    const char *method;             /* "GET", "HEAD", "POST", "PUT", "DELETE" */
    const char *path;               /* percent-decoded path without the query */
    const char *body;               /* NUL-terminated (also binary-safe with body_len); "" if none */
    size_t body_len;
    const char *user;               /* token owner's name, or "" when anonymous */
    int role;                       /* AUTH_NONE when anonymous */
    http_worker_t *worker;
    int nparams;
    const char *param_names[HTTP_MAX_PARAMS];  /* from the route pattern's {name} segments */
    const char *param_values[HTTP_MAX_PARAMS]; /* percent-decoded */
    void *conn;                     /* the struct MHD_Connection (framework use) */
    const char *base_url;           /* "http://host:port" as the client addressed us (for links) */
} http_req_t;

/* A value released by a zero-copy response once the response is freed. */
typedef void (*http_release_fn)(void *cls);

typedef struct http_res {
    int status;                     /* default 200 */
    const char *content_type;       /* static string; default "application/json" */
    buf_t body;                     /* the framework owns and frees it */
    /* Zero-copy body (instead of body): ref_data stays valid until ref_release(ref_cls) is called,
     * which the framework does exactly once when libmicrohttpd is done with the response (also on
     * error paths). Set through http_res_ref. */
    const void *ref_data;
    size_t ref_len;
    http_release_fn ref_release;
    void *ref_cls;
    char etag[80];                  /* strong ETag without quotes; "" to let the framework hash the body */
    int no_etag;                    /* 1: neither compute nor send an ETag */
    int no_gzip;                    /* 1: never gzip this body (already compressed formats) */
    int nheaders;
    char *header_names[HTTP_MAX_HEADERS];
    char *header_values[HTTP_MAX_HEADERS];
    char err[HTTP_ERR_LEN];         /* description for an error return */
} http_res_t;

/* A handler: 0 when res is filled, or a negative GP_E* code (see above). */
typedef int (*http_handler_fn)(http_req_t *req, http_res_t *res);

/* One route. pattern: literal segments and {name} segments (a whole segment each); a final
 * {*name} takes the rest of the path including slashes. GET routes also answer HEAD.
 * min_role: AUTH_NONE for a read (then the configured read_role applies), AUTH_PLANNER for writes,
 * AUTH_ADMIN for administration. A table ends with a {NULL} entry. */
typedef struct http_route {
    const char *method;
    const char *pattern;
    http_handler_fn handler;
    int min_role;
} http_route_t;

/* The query of one OGC items request, already validated. */
typedef struct http_items_query {
    int has_bbox;
    double bbox[4];                 /* minx, miny, maxx, maxy (lon/lat) */
    int64_t limit;                  /* 1 .. 10000 */
    int64_t offset;                 /* >= 0 */
    int nfilters;
    const char *filter_names[HTTP_MAX_PARAMS];   /* property equality filters */
    const char *filter_values[HTTP_MAX_PARAMS];
} http_items_query_t;

/* A computed OGC API collection (police, circles, coverage): listed under /collections and
 * served at /collections/{id}/items like the stored tables. */
typedef struct http_collection {
    const char *id;                 /* URL name, e.g. "police" */
    const char *title;
    const char *description;
    const char *geometry_type;      /* "MultiPolygon", "Point", ... (for the collection description) */
    /* Appends the matching page of features as GeoJSON Feature objects separated by commas (no
     * brackets) to out, and sets *matched (all features matching bbox/filters, ignoring limit and
     * offset) and *returned. 0 or a GP_E* code with err filled; GP_EINVAL for an unknown filter
     * property (answered 400). Called on a worker thread with that worker's context. */
    int (*items)(http_worker_t *w, const http_items_query_t *q, buf_t *out, int64_t *matched,
                 int64_t *returned, char *err, size_t errlen);
    /* Appends one Feature with id fid, or returns GP_ENOTFOUND. NULL: served by scanning items. */
    int (*item)(http_worker_t *w, int64_t fid, buf_t *out, char *err, size_t errlen);
} http_collection_t;

/* What changed after a committed write: the table (NULL when unknown, e.g. after an undo: any
 * table may have changed) and the bounding box of the old and new geometry (lon/lat), or
 * has_bbox = 0 when unknown (then everything in that table is stale). */
typedef struct http_change {
    const char *table;
    int has_bbox;
    double bbox[4];
    int64_t changeset;              /* the changeset id, 0 if none */
} http_change_t;

/* A module. Every member but name may be NULL. */
typedef struct http_module {
    const char *name;
    const http_route_t *routes;                 /* ends with {NULL} */
    const http_collection_t *collections;       /* computed OGC collections, ends with {NULL} */
    /* Once, before the workers exist: shared state (caches, loaded profiles). st is a connection
     * the hook may use during the call only. */
    int (*init)(const http_config_t *cfg, store_t *st, char *err, size_t errlen);
    /* Per worker, before the daemon starts: fill w->slot[...]. */
    int (*worker_init)(http_worker_t *w, char *err, size_t errlen);
    /* Per worker at shutdown (after the daemon stopped); must accept a worker whose init failed. */
    void (*worker_free)(http_worker_t *w);
    /* Once after all workers are freed. */
    void (*shutdown)(void);
    /* After a write committed, on the writing worker's thread; must be thread-safe. */
    void (*data_changed)(http_worker_t *w, const http_change_t *change);
} http_module_t;

/* ---- Server lifecycle --------------------------------------------------------------------- */

/* Builds the worker contexts, runs the modules' init hooks and starts listening. Returns 0 and
 * *out (stop with http_stop), or a GP_E* code with err filled (bad address, port in use, database). */
int http_start(const http_config_t *cfg, http_server_t **out, char *err, size_t errlen);
/* The port actually bound (useful with port 0). */
int http_port(const http_server_t *srv);
/* Stops accepting, waits for requests in flight, frees every context. Accepts NULL. */
void http_stop(http_server_t *srv);

/* Tells every module's data_changed hook about a committed write and bumps the data generation. */
void http_notify_changed(http_worker_t *w, const http_change_t *change);
/* A counter bumped by every http_notify_changed (starts at 1): cheap cache validator. */
uint64_t http_data_generation(void);

/* Every computed collection registered by the modules, in order; NULL-terminated array owned by
 * the server (valid while it runs). http_collection_find returns NULL for an unknown id. */
const http_collection_t *http_collection_find(const char *id);
const http_collection_t *const *http_collections(void);

/* ---- Request helpers ----------------------------------------------------------------------- */

/* A route parameter by name ({id} -> "id"), or NULL. */
const char *http_param(const http_req_t *req, const char *name);
/* A query-string argument (decoded), or NULL when absent. Repeated keys: the first. */
const char *http_query(const http_req_t *req, const char *name);
/* Calls fn for each query argument in order (value may be NULL for "?flag"). */
void http_query_each(const http_req_t *req, void (*fn)(void *user, const char *key, const char *value), void *user);
/* A request header (case-insensitive name), or NULL. */
const char *http_header(const http_req_t *req, const char *name);

/* Parses an integer argument: 0 and *out, or GP_EINVAL when it is not a whole decimal number in
 * [min, max]. Used for limit/offset/z/x/y. */
int http_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parses "minx,miny,maxx,maxy" (lon/lat): 0, or GP_EINVAL with err naming what is wrong
 * (non-numeric, wrong count, inverted, outside -180..180 / -90..90). */
int http_parse_bbox(const char *s, double bbox[4], char *err, size_t errlen);

/* Matches path against pattern; on success fills names/values (values point into a copy the
 * caller provides: scratch, size scratchlen) and returns the number of params (>= 0), else -1. */
int http_route_match(const char *pattern, const char *path, char *scratch, size_t scratchlen,
                     const char **names, const char **values, int max);

/* ---- Response helpers ---------------------------------------------------------------------- */

/* Sets status and content type, and leaves body as is (append with buf_* on res->body). */
void http_res_json(http_res_t *res, int status);
/* Adds a response header (copied). 0 or GP_ENOMEM / GP_EINVAL when HTTP_MAX_HEADERS are used. */
int http_res_header(http_res_t *res, const char *name, const char *value);
/* Zero-copy body: see http_res_t.ref_*. On success the framework owns one reference. */
void http_res_ref(http_res_t *res, const void *data, size_t len, http_release_fn release, void *cls);
/* Replaces the body with the standard JSON error {"code","error","description"}; returns 0 so a
 * handler can `return http_error(res, 404, "not found", "no collection '%s'", id);`. */
int http_error(http_res_t *res, int status, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The HTTP status a GP_E* code maps to (EINVAL 400, ENOTFOUND 404, ECONFLICT 409, EGEOM and
 * EINFEASIBLE 422, EAUTH 401, EFORBIDDEN 403, others 500). */
int http_status_for(int code);
/* A short error name for a status ("bad request", "not found", ...). */
const char *http_status_name(int status);

/* A refcounted immutable byte blob for caches that hand the same bytes to many responses
 * (tiles): http_blob_new gives refs = 1; http_res_blob takes an extra reference for the response. */
typedef struct http_blob {
    int refs;                       /* atomic */
    size_t len;
    unsigned char data[];
} http_blob_t;
http_blob_t *http_blob_new(const void *data, size_t len);   /* copies data; NULL on ENOMEM */
void http_blob_ref(http_blob_t *b);
void http_blob_unref(http_blob_t *b);                       /* frees at zero; accepts NULL */
void http_res_blob(http_res_t *res, http_blob_t *b);

/* 64-bit hash used for automatic ETags (and by caches that want a stable content hash). */
uint64_t http_hash64(const void *data, size_t len);

/* Answers with the file rel (relative to the web directory, e.g. "index.html") as http_static.c
 * serves GET /{path}: 404 JSON for anything missing, hidden or outside the directory. */
int http_static_file(http_req_t *req, http_res_t *res, const char *rel);

/* The worker context of the calling pool thread (NULL outside a request). */
http_worker_t *http_current_worker(void);

#endif
