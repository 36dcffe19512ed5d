/* http.c — libmicrohttpd server: worker contexts, routing, auth, ETag/304, gzip, CORS, access log.
 *
 * Threads: MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL with a pool of N threads, each running
 * its own epoll loop over the shared listening socket. Every callback of a connection runs on the
 * pool thread that accepted it, so a pool thread binds itself to one pre-built worker context on
 * its first request (atomic counter, _Thread_local pointer) and uses it for all later requests.
 *
 * Request flow: the URI log callback allocates the per-connection state (raw URI for the log);
 * the access handler accumulates the body up to max_body (413 when a declared Content-Length is
 * too big, before reading it), then routes, authenticates, calls the handler and turns http_res_t
 * into an MHD response; the completion callback writes the access-log line and frees the state. */
#include "http.h"
#include "err.h"
#include "log.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <proj.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/* ---- The module table: one line per module, in src/http_modules.def ---------------------- */
#define HTTP_MODULE(name) extern const http_module_t name;
#include "http_modules.def"
#undef HTTP_MODULE

static const http_module_t *const http_modules[] = {
#define HTTP_MODULE(name) &name,
#include "http_modules.def"
#undef HTTP_MODULE
    NULL};

/* ---- Server state ------------------------------------------------------------------------ */
struct http_server {
    http_config_t cfg;
    struct MHD_Daemon *daemon;
    int port;
    int nworkers;
    http_worker_t *workers;
    atomic_int next_worker;
    int log_fd;          /* -1: no access log */
    int log_owned;
    int started_modules; /* how many modules' init hooks ran */
};

static _Thread_local http_worker_t *tl_worker;
static _Thread_local const http_server_t *tl_server;
static atomic_uint_fast64_t http_generation = 1;

/* Per-connection request state. */
typedef struct http_conn {
    double started;
    char uri[512];
    buf_t body;
    int seen;         /* the headers-only first call happened */
    char method[8];
    int too_large;
    int status;
    size_t bytes;
    char user[64];
} http_conn_t;

void http_config_defaults(http_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->bind = "127.0.0.1";
    cfg->port = 8080;
    cfg->threads = 2;
    cfg->timeout = 30;
    cfg->max_conns = 512;
    cfg->per_ip = 64;
    cfg->max_body = 8u << 20;
    cfg->read_role = AUTH_NONE;
    cfg->access_log = "-";
    cfg->tiles_dir = "tiles";
    cfg->gzip_level = 4;
}

/* ---- Small helpers ------------------------------------------------------------------------ */

uint64_t http_hash64(const void *data, size_t len) {
    /* MurmurHash64A: fast, good spread; not cryptographic (ETags only need change detection). */
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    uint64_t h = 0x9747b28c ^ (len * m);
    const unsigned char *p = data;
    size_t n = len / 8;
    for (size_t i = 0; i < n; i++) {
        uint64_t k;
        memcpy(&k, p + i * 8, 8);
        k *= m; k ^= k >> r; k *= m;
        h ^= k; h *= m;
    }
    const unsigned char *tail = p + n * 8;
    switch (len & 7) {
    case 7: h ^= (uint64_t)tail[6] << 48; /* fall through */
    case 6: h ^= (uint64_t)tail[5] << 40; /* fall through */
    case 5: h ^= (uint64_t)tail[4] << 32; /* fall through */
    case 4: h ^= (uint64_t)tail[3] << 24; /* fall through */
    case 3: h ^= (uint64_t)tail[2] << 16; /* fall through */
    case 2: h ^= (uint64_t)tail[1] << 8;  /* fall through */
    case 1: h ^= (uint64_t)tail[0]; h *= m;
    }
    h ^= h >> r; h *= m; h ^= h >> r;
    return h;
}

const char *http_status_name(int status) {
    switch (status) {
    case 200: return "ok";
    case 201: return "created";
    case 204: return "no content";
    case 304: return "not modified";
    case 400: return "bad request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 409: return "conflict";
    case 413: return "payload too large";
    case 415: return "unsupported media type";
    case 422: return "unprocessable entity";
    case 429: return "too many requests";
    case 501: return "not implemented";
    case 503: return "service unavailable";
    default: return status >= 500 ? "internal error" : "error";
    }
}

int http_status_for(int code) {
    switch (code) {
    case GP_EINVAL: return 400;
    case GP_ENOTFOUND: return 404;
    case GP_ECONFLICT: return 409;
    case GP_EGEOM:
    case GP_EINFEASIBLE: return 422;
    case GP_EAUTH: return 401;
    case GP_EFORBIDDEN: return 403;
    default: return 500;
    }
}

void http_res_json(http_res_t *res, int status) {
    res->status = status;
    res->content_type = "application/json";
}

int http_res_header(http_res_t *res, const char *name, const char *value) {
    if (res->nheaders >= HTTP_MAX_HEADERS) return GP_EINVAL;
    /* A header value must not smuggle a line break into the response. */
    if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) return GP_EINVAL;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) { free(n); free(v); return GP_ENOMEM; }
    res->header_names[res->nheaders] = n;
    res->header_values[res->nheaders] = v;
    res->nheaders++;
    return GP_OK;
}

void http_res_ref(http_res_t *res, const void *data, size_t len, http_release_fn release, void *cls) {
    if (res->ref_release) res->ref_release(res->ref_cls);
    res->ref_data = data;
    res->ref_len = len;
    res->ref_release = release;
    res->ref_cls = cls;
}

int http_error(http_res_t *res, int status, const char *name, const char *fmt, ...) {
    char desc[HTTP_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    if (res->ref_release) { res->ref_release(res->ref_cls); res->ref_release = NULL; }
    res->ref_data = NULL;
    res->ref_len = 0;
    buf_reset(&res->body);
    res->status = status;
    res->content_type = "application/json";
    res->etag[0] = '\0';
    res->no_etag = 1;
    buf_printf(&res->body, "{\"code\":%d,\"error\":", status);
    buf_json_string(&res->body, name ? name : http_status_name(status));
    buf_puts(&res->body, ",\"description\":");
    buf_json_string(&res->body, desc);
    buf_puts(&res->body, "}\n");
    return GP_OK;
}

http_blob_t *http_blob_new(const void *data, size_t len) {
    http_blob_t *b = malloc(sizeof *b + len);
    if (!b) return NULL;
    atomic_init((atomic_int *)&b->refs, 1);
    b->len = len;
    if (len) memcpy(b->data, data, len);
    return b;
}

void http_blob_ref(http_blob_t *b) { atomic_fetch_add((atomic_int *)&b->refs, 1); }

void http_blob_unref(http_blob_t *b) {
    if (b && atomic_fetch_sub((atomic_int *)&b->refs, 1) == 1) free(b);
}

static void http_blob_release(void *cls) { http_blob_unref(cls); }

void http_res_blob(http_res_t *res, http_blob_t *b) {
    http_blob_ref(b);
    http_res_ref(res, b->data, b->len, http_blob_release, b);
}

http_worker_t *http_current_worker(void) { return tl_worker; }

uint64_t http_data_generation(void) { return atomic_load(&http_generation); }

void http_notify_changed(http_worker_t *w, const http_change_t *change) {
    atomic_fetch_add(&http_generation, 1);
    for (int i = 0; http_modules[i]; i++)
        if (http_modules[i]->data_changed) http_modules[i]->data_changed(w, change);
}

static pthread_once_t http_collections_once = PTHREAD_ONCE_INIT;
static const http_collection_t *http_collection_list[64];

static void http_collections_build(void) {
    int n = 0;
    for (int i = 0; http_modules[i]; i++) {
        const http_collection_t *c = http_modules[i]->collections;
        for (; c && c->id && n < 63; c++) http_collection_list[n++] = c;
    }
    http_collection_list[n] = NULL;
}

const http_collection_t *const *http_collections(void) {
    pthread_once(&http_collections_once, http_collections_build);
    return http_collection_list;
}

const http_collection_t *http_collection_find(const char *id) {
    for (const http_collection_t *const *c = http_collections(); *c; c++)
        if (!strcmp((*c)->id, id)) return *c;
    return NULL;
}

/* ---- Parsing ------------------------------------------------------------------------------ */

int http_parse_int(const char *s, int64_t min, int64_t max, int64_t *out) {
    if (!s || !*s) return GP_EINVAL;
    const char *p = s;
    if (*p == '-' || *p == '+') p++;
    if (!*p) return GP_EINVAL;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) return GP_EINVAL;
    if (strlen(p) > 18) return GP_EINVAL;
    long long v = strtoll(s, NULL, 10);
    if (v < min || v > max) return GP_EINVAL;
    *out = v;
    return GP_OK;
}

static int http_parse_double(const char *s, size_t n, double *out) {
    char tmp[64];
    if (n == 0 || n >= sizeof tmp) return GP_EINVAL;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    /* strtod accepts "nan", "inf" and hex floats; a coordinate is none of those. */
    if (errno || *end || end == tmp) return GP_EINVAL;
    for (const char *p = tmp; *p; p++)
        if (!strchr("0123456789.-+eE", *p)) return GP_EINVAL;
    *out = v;
    return GP_OK;
}

int http_parse_bbox(const char *s, double bbox[4], char *err, size_t errlen) {
    if (!s || !*s) return err_set(err, errlen, GP_EINVAL, "bbox is empty; expected minx,miny,maxx,maxy");
    double v[4];
    int n = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 4) return err_set(err, errlen, GP_EINVAL, "bbox '%.80s' has more than 4 numbers (3D bbox is not supported)", s);
        if (http_parse_double(p, len, &v[n]))
            return err_set(err, errlen, GP_EINVAL, "bbox '%.80s': value %d '%.*s' is not a number", s, n + 1,
                           (int)(len > 40 ? 40 : len), p);
        n++;
        if (!comma) break;
        p = comma + 1;
    }
    if (n != 4) return err_set(err, errlen, GP_EINVAL, "bbox '%.80s' has %d numbers; expected minx,miny,maxx,maxy", s, n);
    if (v[0] < -180 || v[2] > 180 || v[0] > 180 || v[2] < -180)
        return err_set(err, errlen, GP_EINVAL, "bbox '%.80s': longitude outside -180..180", s);
    if (v[1] < -90 || v[3] > 90 || v[1] > 90 || v[3] < -90)
        return err_set(err, errlen, GP_EINVAL, "bbox '%.80s': latitude outside -90..90", s);
    if (v[0] > v[2] || v[1] > v[3])
        return err_set(err, errlen, GP_EINVAL, "bbox '%.80s' is inverted: minx must be <= maxx and miny <= maxy", s);
    memcpy(bbox, v, sizeof v);
    return GP_OK;
}

int http_route_match(const char *pattern, const char *path, char *scratch, size_t scratchlen,
                     const char **names, const char **values, int max) {
    /* names point into scratch too, so the result does not depend on the pattern's lifetime. */
    size_t used = 0;
    int n = 0;
    const char *p = pattern, *u = path;
    while (*p) {
        if (*p != '/' || *u != '/') return -1;
        p++;
        u++;
        const char *pend = strchr(p, '/');
        size_t plen = pend ? (size_t)(pend - p) : strlen(p);
        const char *uend = strchr(u, '/');
        size_t ulen = uend ? (size_t)(uend - u) : strlen(u);
        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            int rest = p[1] == '*';
            const char *name = p + 1 + rest;
            size_t nlen = plen - 2 - rest;
            if (rest) ulen = strlen(u);
            if ((!rest && ulen == 0) || n >= max || used + nlen + ulen + 2 > scratchlen) return -1;
            char *nm = scratch + used;
            memcpy(nm, name, nlen);
            nm[nlen] = '\0';
            used += nlen + 1;
            char *val = scratch + used;
            memcpy(val, u, ulen);
            val[ulen] = '\0';
            used += ulen + 1;
            names[n] = nm;
            values[n] = val;
            n++;
            if (rest) return n;
        } else if (plen != ulen || memcmp(p, u, plen)) {
            return -1;
        }
        p += plen;
        u += ulen;
    }
    return *u ? -1 : n;
}

/* ---- Request accessors -------------------------------------------------------------------- */

const char *http_param(const http_req_t *req, const char *name) {
    for (int i = 0; i < req->nparams; i++)
        if (!strcmp(req->param_names[i], name)) return req->param_values[i];
    return NULL;
}

const char *http_query(const http_req_t *req, const char *name) {
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct { void (*fn)(void *, const char *, const char *); void *user; } http_iter_t;
static enum MHD_Result http_query_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    (void)kind;
    http_iter_t *it = cls;
    it->fn(it->user, key, value);
    return MHD_YES;
}

void http_query_each(const http_req_t *req, void (*fn)(void *user, const char *key, const char *value), void *user) {
    http_iter_t it = {fn, user};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, http_query_iter, &it);
}

const char *http_header(const http_req_t *req, const char *name) {
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* ---- Access log --------------------------------------------------------------------------- */

static void http_log_line(http_server_t *srv, struct MHD_Connection *conn, http_conn_t *hc) {
    if (srv->log_fd < 0) return;
    char ip[INET6_ADDRSTRLEN] = "-";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof ip);
        else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof ip);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[1024];
    /* Printable ASCII only: a URI cannot forge a second log line. */
    char uri[sizeof hc->uri];
    size_t i;
    for (i = 0; hc->uri[i] && i < sizeof uri - 1; i++)
        uri[i] = (hc->uri[i] < 0x21 || hc->uri[i] == 0x7f) ? '?' : hc->uri[i];
    uri[i] = '\0';
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s \"%s\" %d %zu %.2fms %s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, ip, hc->method[0] ? hc->method : "-", uri, hc->status, hc->bytes, (log_now() - hc->started) * 1000.0,
                     hc->user[0] ? hc->user : "-");
    if (n > (int)sizeof line - 1) { n = (int)sizeof line - 1; line[n - 1] = '\n'; }
    /* One write() per line: lines from different threads never interleave (O_APPEND, < PIPE_BUF). */
    ssize_t wr = write(srv->log_fd, line, (size_t)n);
    (void)wr;
}

static void *http_uri_log(void *cls, const char *uri, struct MHD_Connection *conn) {
    (void)cls;
    (void)conn;
    http_conn_t *hc = calloc(1, sizeof *hc);
    if (!hc) return NULL;
    hc->started = log_now();
    snprintf(hc->uri, sizeof hc->uri, "%s", uri ? uri : "");
    return hc;
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe) {
    http_server_t *srv = cls;
    http_conn_t *hc = *con_cls;
    if (!hc) return;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && hc->status == 0) hc->status = 499; /* client went away */
    http_log_line(srv, conn, hc);
    buf_free(&hc->body);
    free(hc);
    *con_cls = NULL;
}

/* ---- Response building -------------------------------------------------------------------- */

static int http_compressible(const char *ct) {
    return !strncmp(ct, "application/json", 16) || !strncmp(ct, "application/geo+json", 20) ||
           !strncmp(ct, "text/", 5) || !strncmp(ct, "application/javascript", 22) ||
           !strncmp(ct, "application/xml", 15) || !strncmp(ct, "image/svg", 9);
}

static int http_accepts_gzip(struct MHD_Connection *conn) {
    const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    const char *g = ae ? strcasestr(ae, "gzip") : NULL;
    if (!g) return 0;
    /* "gzip;q=0" (or q=0.0) refuses it. */
    const char *q = g + 4;
    while (*q == ' ') q++;
    if (*q != ';') return 1;
    q++;
    while (*q == ' ') q++;
    return strncasecmp(q, "q=", 2) || strtod(q + 2, NULL) > 0;
}

static int http_gzip(const void *in, size_t inlen, int level, buf_t *out) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return GP_ENOMEM;
    size_t bound = deflateBound(&zs, inlen);
    if (buf_reserve(out, bound)) { deflateEnd(&zs); return GP_ENOMEM; }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)inlen;
    zs.next_out = (Bytef *)out->data + out->len;
    zs.avail_out = (uInt)bound;
    int zr = deflate(&zs, Z_FINISH);
    if (zr != Z_STREAM_END) { deflateEnd(&zs); return GP_EIO; }
    out->len += zs.total_out;
    deflateEnd(&zs);
    return GP_OK;
}

/* True when the If-None-Match header lists etag (quoted, optionally W/) or is "*". */
static int http_etag_matches(const char *inm, const char *etag) {
    if (!inm) return 0;
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == '*') return 1;
        if (!strncmp(p, "W/", 2)) p += 2;
        if (*p == '"') {
            const char *end = strchr(p + 1, '"');
            if (!end) return 0;
            if ((size_t)(end - p - 1) == elen && !memcmp(p + 1, etag, elen)) return 1;
            p = end + 1;
        } else {
            while (*p && *p != ',') p++;
        }
    }
    return 0;
}

/* What MHD hands back to the free callback of a zero-copy response. */
typedef struct http_ref_holder { http_release_fn release; void *cls; } http_ref_holder_t;

static void http_ref_free(void *cls) {
    http_ref_holder_t *holder = cls;
    holder->release(holder->cls);
    free(holder);
}

static enum MHD_Result http_send(http_server_t *srv, struct MHD_Connection *conn, http_conn_t *hc, http_res_t *res,
                                 const char *method) {
    int is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    const void *data = res->ref_data ? res->ref_data : res->body.data;
    size_t len = res->ref_data ? res->ref_len : res->body.len;
    if (!data) data = "";
    char etag[96] = "";
    if (is_get && res->status == 200 && !res->no_etag) {
        if (res->etag[0]) snprintf(etag, sizeof etag, "%s", res->etag);
        else snprintf(etag, sizeof etag, "%016llx", (unsigned long long)http_hash64(data, len));
    }
    const char *ct = res->content_type ? res->content_type : "application/json";
    int gzip = !res->ref_data && !res->no_gzip && len >= 512 && res->status != 304 && http_compressible(ct) &&
               http_accepts_gzip(conn);
    char etag_sent[104] = "";
    if (etag[0]) snprintf(etag_sent, sizeof etag_sent, "\"%s%s\"", etag, gzip ? "-gz" : "");
    struct MHD_Response *r = NULL;
    int status = res->status;
    const char *inm = etag[0] ? MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH) : NULL;
    char plain[100];
    snprintf(plain, sizeof plain, "%s-gz", etag);
    if (etag[0] && (http_etag_matches(inm, etag) || http_etag_matches(inm, plain))) {
        status = 304;
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        len = 0;
    } else if (res->ref_data) {
        /* The release callback must run exactly once, when MHD frees the response. */
        http_ref_holder_t *holder = res->ref_release ? malloc(sizeof *holder) : NULL;
        if (holder || !res->ref_release) {
            if (holder) *holder = (http_ref_holder_t){res->ref_release, res->ref_cls};
            struct MHD_IoVec iov = {res->ref_data, res->ref_len};
            r = MHD_create_response_from_iovec(&iov, 1, holder ? http_ref_free : NULL, holder);
            if (r) res->ref_release = NULL; /* now MHD's */
            else free(holder);
        }
    } else if (gzip) {
        buf_t z = {0};
        if (http_gzip(data, len, srv->cfg.gzip_level, &z) == GP_OK) {
            len = z.len;
            char *p = buf_steal(&z, NULL);
            r = MHD_create_response_from_buffer(len, p, MHD_RESPMEM_MUST_FREE);
            if (!r) free(p);
        } else {
            buf_free(&z);
            gzip = 0;
            snprintf(etag_sent, sizeof etag_sent, "\"%s\"", etag);
        }
    }
    if (!r && status != 304) {
        if (!gzip && !res->ref_data) {
            size_t n;
            char *p = buf_steal(&res->body, &n);
            r = p ? MHD_create_response_from_buffer(n, p, MHD_RESPMEM_MUST_FREE)
                  : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
            if (!r) free(p);
            len = n;
        }
        if (!r) return MHD_NO;
    }
    if (status != 304) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ct);
    if (gzip && status != 304) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    if (etag_sent[0]) MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag_sent);
    if (!res->no_gzip && http_compressible(ct)) MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (srv->cfg.cors && *srv->cfg.cors) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, srv->cfg.cors);
        MHD_add_response_header(r, "Access-Control-Expose-Headers", "ETag, Link");
    }
    if (status == 401) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"gridplan\"");
    for (int i = 0; i < res->nheaders; i++) MHD_add_response_header(r, res->header_names[i], res->header_values[i]);
    hc->status = status;
    hc->bytes = len;
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static void http_res_clear(http_res_t *res) {
    buf_free(&res->body);
    if (res->ref_release) res->ref_release(res->ref_cls);
    res->ref_release = NULL;
    for (int i = 0; i < res->nheaders; i++) { free(res->header_names[i]); free(res->header_values[i]); }
    res->nheaders = 0;
}

/* Sends a JSON error outside any handler (routing, auth, limits). */
static enum MHD_Result http_fail(http_server_t *srv, struct MHD_Connection *conn, http_conn_t *hc, const char *method,
                                 int status, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static enum MHD_Result http_fail(http_server_t *srv, struct MHD_Connection *conn, http_conn_t *hc, const char *method,
                                 int status, const char *fmt, ...) {
    char desc[HTTP_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    http_res_t res;
    memset(&res, 0, sizeof res);
    http_error(&res, status, http_status_name(status), "%s", desc);
    enum MHD_Result r = http_send(srv, conn, hc, &res, method);
    http_res_clear(&res);
    return r;
}

/* ---- Dispatch ----------------------------------------------------------------------------- */

static http_worker_t *http_claim_worker(http_server_t *srv) {
    if (tl_worker && tl_server == srv) return tl_worker;
    int i = atomic_fetch_add(&srv->next_worker, 1);
    if (i >= srv->nworkers) return NULL;
    tl_worker = &srv->workers[i];
    tl_server = srv;
    return tl_worker;
}

static void http_base_url(http_server_t *srv, struct MHD_Connection *conn, char *out, size_t outlen) {
    const char *host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    int ok = host && *host && strlen(host) < 200;
    for (const char *p = host; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || strchr(".-:[]_", *p);
    if (ok) snprintf(out, outlen, "http://%s", host);
    else snprintf(out, outlen, "http://%s:%d", srv->cfg.bind, srv->port);
}

static int http_has_dotdot(const char *path) {
    for (const char *p = path; (p = strstr(p, "..")); p += 2)
        if ((p == path || p[-1] == '/') && (p[2] == '\0' || p[2] == '/')) return 1;
    return 0;
}

static enum MHD_Result http_dispatch(http_server_t *srv, struct MHD_Connection *conn, http_conn_t *hc,
                                     const char *url, const char *method) {
    const char *meth = strcmp(method, "HEAD") ? method : "GET";
    if (!strcmp(method, "OPTIONS") && srv->cfg.cors && *srv->cfg.cors) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, srv->cfg.cors);
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS");
        MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type, If-None-Match");
        MHD_add_response_header(r, "Access-Control-Max-Age", "600");
        hc->status = 204;
        enum MHD_Result ret = MHD_queue_response(conn, 204, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (url[0] != '/' || strlen(url) > 2048 || http_has_dotdot(url))
        return http_fail(srv, conn, hc, method, 400, "path '%.100s' is not allowed (must start with / and contain no '..' segment)", url);
    http_worker_t *w = http_claim_worker(srv);
    if (!w) return http_fail(srv, conn, hc, method, 503, "no worker context is free for this thread");

    const http_route_t *route = NULL;
    int allowed_elsewhere = 0;
    char allow[64] = "";
    char scratch[4096];
    const char *names[HTTP_MAX_PARAMS], *values[HTTP_MAX_PARAMS];
    int nparams = -1;
    for (int m = 0; http_modules[m] && !route; m++) {
        for (const http_route_t *rt = http_modules[m]->routes; rt && rt->method; rt++) {
            int n = http_route_match(rt->pattern, url, scratch, sizeof scratch, names, values, HTTP_MAX_PARAMS);
            if (n < 0) continue;
            if (strcmp(rt->method, meth)) {
                allowed_elsewhere = 1;
                if (!strstr(allow, rt->method) && strlen(allow) + strlen(rt->method) + 8 < sizeof allow)
                    snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s%s", *allow ? ", " : "", rt->method,
                             strcmp(rt->method, "GET") ? "" : ", HEAD");
                continue;
            }
            route = rt;
            nparams = n;
            break;
        }
    }
    if (!route) {
        if (allowed_elsewhere) {
            http_res_t res;
            memset(&res, 0, sizeof res);
            http_error(&res, 405, http_status_name(405), "method %s is not allowed on %.200s (allowed: %s)", method, url, allow);
            http_res_header(&res, "Allow", allow);
            enum MHD_Result r = http_send(srv, conn, hc, &res, method);
            http_res_clear(&res);
            return r;
        }
        return http_fail(srv, conn, hc, method, 404, "no resource at %.200s", url);
    }

    /* Authentication: a presented token must be valid even where none is needed. */
    int role = AUTH_NONE;
    const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (authz) {
        if (strncasecmp(authz, "Bearer ", 7) || !authz[7])
            return http_fail(srv, conn, hc, method, 401, "the Authorization header must be 'Bearer <token>'");
        role = auth_lookup(w->store, authz + 7, hc->user, sizeof hc->user, &w->token_stmt);
        if (role < 0) return http_fail(srv, conn, hc, method, 500, "token lookup failed: %s", err_name(role));
        if (role == AUTH_NONE) return http_fail(srv, conn, hc, method, 401, "the bearer token is not valid (unknown or revoked)");
    }
    int need = route->min_role == AUTH_NONE ? srv->cfg.read_role : route->min_role;
    if (role < need) {
        if (role == AUTH_NONE)
            return http_fail(srv, conn, hc, method, 401, "%s %.200s needs a bearer token with the %s role", method, url,
                             auth_role_name(need));
        return http_fail(srv, conn, hc, method, 403, "token '%s' has the %s role; %s %.200s needs %s", hc->user,
                         auth_role_name(role), method, url, auth_role_name(need));
    }

    char base[256];
    http_base_url(srv, conn, base, sizeof base);
    http_req_t req = {
        .method = method, .path = url, .body = hc->body.data ? hc->body.data : "", .body_len = hc->body.len,
        .user = hc->user, .role = role, .worker = w, .nparams = nparams, .conn = conn, .base_url = base};
    for (int i = 0; i < nparams; i++) { req.param_names[i] = names[i]; req.param_values[i] = values[i]; }
    http_res_t res;
    memset(&res, 0, sizeof res);
    res.status = 200;
    res.content_type = "application/json";
    int rc = route->handler(&req, &res);
    if (rc < 0) {
        int status = http_status_for(rc);
        if (status >= 500) log_error("%s %s: %s", method, url, res.err[0] ? res.err : err_name(rc));
        http_error(&res, status, err_name(rc), "%s", res.err[0] ? res.err : err_name(rc));
    }
    enum MHD_Result r = http_send(srv, conn, hc, &res, method);
    http_res_clear(&res);
    return r;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                   const char *version, const char *upload_data, size_t *upload_data_size,
                                   void **con_cls) {
    (void)version;
    http_server_t *srv = cls;
    http_conn_t *hc = *con_cls;
    if (!hc) return MHD_NO; /* the URI log callback could not allocate */
    if (!hc->seen) {
        /* First call: headers only. Refuse an announced oversized body before reading it. */
        hc->seen = 1;
        snprintf(hc->method, sizeof hc->method, "%s", method);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > srv->cfg.max_body)
            return http_fail(srv, conn, hc, method, 413, "the request body (%.20s bytes) exceeds the limit of %zu bytes", cl,
                             srv->cfg.max_body);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!hc->too_large) {
            if (hc->body.len + *upload_data_size > srv->cfg.max_body) {
                hc->too_large = 1;
                buf_free(&hc->body);
            } else if (buf_append(&hc->body, upload_data, *upload_data_size)) {
                hc->too_large = 1;
                buf_free(&hc->body);
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (hc->too_large)
        return http_fail(srv, conn, hc, method, 413, "the request body exceeds the limit of %zu bytes", srv->cfg.max_body);
    return http_dispatch(srv, conn, hc, url, method);
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) msg[--n] = '\0';
    log_debug("microhttpd: %s", msg);
}

/* ---- Lifecycle ---------------------------------------------------------------------------- */

static void http_worker_free(http_worker_t *w) {
    for (int i = 0; http_modules[i]; i++)
        if (http_modules[i]->worker_free) http_modules[i]->worker_free(w);
    if (w->token_stmt) sqlite3_finalize(w->token_stmt);
    w->token_stmt = NULL;
    store_close(w->store);
    w->store = NULL;
    geo_ctx_free(w->geos);
    w->geos = NULL;
    if (w->proj) proj_context_destroy(w->proj);
    w->proj = NULL;
    buf_free(&w->scratch);
}

void http_stop(http_server_t *srv) {
    if (!srv) return;
    if (srv->daemon) {
        /* Stop accepting first, then let the pool threads finish what they are doing. */
        MHD_quiesce_daemon(srv->daemon);
        MHD_stop_daemon(srv->daemon);
    }
    for (int i = 0; i < srv->nworkers; i++) http_worker_free(&srv->workers[i]);
    for (int i = 0; i < srv->started_modules; i++)
        if (http_modules[i]->shutdown) http_modules[i]->shutdown();
    free(srv->workers);
    if (srv->log_owned && srv->log_fd >= 0) close(srv->log_fd);
    free(srv);
}

int http_port(const http_server_t *srv) { return srv->port; }

int http_start(const http_config_t *cfg, http_server_t **out, char *err, size_t errlen) {
    *out = NULL;
    if (cfg->threads < 1 || cfg->threads > 256) return err_set(err, errlen, GP_EINVAL, "threads %d: expected 1..256", cfg->threads);
    if (!cfg->db || !*cfg->db) return err_set(err, errlen, GP_EINVAL, "no database given (--db FILE)");
    http_server_t *srv = calloc(1, sizeof *srv);
    if (!srv) return GP_ENOMEM;
    srv->cfg = *cfg;
    srv->log_fd = -1;
    int rc = GP_OK;
    struct sockaddr_in sa4;
    struct sockaddr_in6 sa6;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    memset(&sa4, 0, sizeof sa4);
    memset(&sa6, 0, sizeof sa6);
    if (inet_pton(AF_INET, cfg->bind, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons((uint16_t)cfg->port);
        sa = (struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, cfg->bind, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons((uint16_t)cfg->port);
        sa = (struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        rc = err_set(err, errlen, GP_EINVAL, "bind address '%s' is not an IPv4 or IPv6 address", cfg->bind);
        goto end;
    }
    if (cfg->access_log && *cfg->access_log && strcmp(cfg->access_log, "off")) {
        if (!strcmp(cfg->access_log, "-")) {
            srv->log_fd = STDERR_FILENO;
        } else {
            srv->log_fd = open(cfg->access_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (srv->log_fd < 0) {
                rc = err_set(err, errlen, GP_EIO, "access log %s: %s", cfg->access_log, strerror(errno));
                goto end;
            }
            srv->log_owned = 1;
        }
    }
    /* Shared module state first, with a connection of its own that is closed right after. */
    {
        store_t *st;
        if ((rc = store_open(cfg->db, STORE_READWRITE, &st, err, errlen))) goto end;
        for (int i = 0; http_modules[i]; i++) {
            if (http_modules[i]->init && (rc = http_modules[i]->init(&srv->cfg, st, err, errlen))) {
                store_close(st);
                goto end;
            }
            srv->started_modules = i + 1;
        }
        store_close(st);
    }
    srv->nworkers = cfg->threads;
    srv->workers = calloc((size_t)cfg->threads, sizeof *srv->workers);
    if (!srv->workers) { rc = GP_ENOMEM; goto end; }
    for (int i = 0; i < cfg->threads; i++) {
        http_worker_t *w = &srv->workers[i];
        w->index = i;
        w->server = srv;
        w->config = &srv->cfg;
        if ((rc = store_open(cfg->db, STORE_READWRITE, &w->store, err, errlen))) goto end;
        /* Reads dominate: map the file instead of pread()ing every page, and keep a bigger cache. */
        if ((rc = store_exec(w->store, "PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -32768;", err, errlen))) goto end;
        w->geos = geo_ctx_new();
        w->proj = proj_context_create();
        if (!w->geos || !w->proj) { rc = err_set(err, errlen, GP_ENOMEM, "cannot create GEOS/PROJ contexts"); goto end; }
        for (int m = 0; http_modules[m]; m++)
            if (http_modules[m]->worker_init && (rc = http_modules[m]->worker_init(w, err, errlen))) goto end;
    }
    atomic_init(&srv->next_worker, 0);
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)cfg->port, NULL, NULL, http_access, srv,
        MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_conns,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_ip,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024,
        MHD_OPTION_URI_LOG_CALLBACK, http_uri_log, srv,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
        MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, srv,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
        MHD_OPTION_END);
    if (!srv->daemon) {
        rc = err_set(err, errlen, GP_EIO, "cannot listen on %s:%d (address in use or not available)", cfg->bind, cfg->port);
        goto end;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : cfg->port;
end:
    if (rc) {
        http_stop(srv);
        return rc;
    }
    *out = srv;
    return GP_OK;
}
