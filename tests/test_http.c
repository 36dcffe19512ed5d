/* test_http.c — routing, query/bbox parsing, SHA-256 and token lookup, config files, and one
 * in-process server round trip (ETag, 304, error JSON). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "auth.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "store.h"

static int match(const char *pattern, const char *path, const char **names, const char **values, char *scratch) {
    return http_route_match(pattern, path, scratch, 512, names, values, HTTP_MAX_PARAMS);
}

Test(http, route_literal_and_params) {
    char scratch[512];
    const char *n[HTTP_MAX_PARAMS], *v[HTTP_MAX_PARAMS];
    cr_assert_eq(match("/", "/", n, v, scratch), 0);
    cr_assert_eq(match("/collections", "/collections", n, v, scratch), 0);
    cr_assert_eq(match("/collections", "/collections/", n, v, scratch), -1);
    cr_assert_eq(match("/collections", "/collectionsx", n, v, scratch), -1);
    cr_assert_eq(match("/collections/{id}/items/{fid}", "/collections/communities/items/42", n, v, scratch), 2);
    cr_assert_str_eq(n[0], "id");
    cr_assert_str_eq(v[0], "communities");
    cr_assert_str_eq(n[1], "fid");
    cr_assert_str_eq(v[1], "42");
    /* a parameter never matches an empty segment or spans a slash */
    cr_assert_eq(match("/collections/{id}", "/collections/", n, v, scratch), -1);
    cr_assert_eq(match("/collections/{id}", "/collections/a/b", n, v, scratch), -1);
    cr_assert_eq(match("/collections/{id}/items", "/collections/communities", n, v, scratch), -1);
}

Test(http, route_rest_param) {
    char scratch[512];
    const char *n[HTTP_MAX_PARAMS], *v[HTTP_MAX_PARAMS];
    cr_assert_eq(match("/web/{*file}", "/web/js/app.js", n, v, scratch), 1);
    cr_assert_str_eq(n[0], "file");
    cr_assert_str_eq(v[0], "js/app.js");
    cr_assert_eq(match("/web/{*file}", "/web/", n, v, scratch), 1);
    cr_assert_str_eq(v[0], "");
    cr_assert_eq(match("/tiles/{layer}/{z}/{x}/{y}", "/tiles/communities/12/3300/1500@2x.png", n, v, scratch), 4);
    cr_assert_str_eq(v[3], "1500@2x.png");
}

Test(http, parse_int_bounds) {
    int64_t v;
    cr_assert_eq(http_parse_int("10", 1, 10000, &v), 0);
    cr_assert_eq(v, 10);
    cr_assert_eq(http_parse_int("10000", 1, 10000, &v), 0);
    cr_assert_eq(http_parse_int("10001", 1, 10000, &v), GP_EINVAL);
    cr_assert_eq(http_parse_int("0", 1, 10000, &v), GP_EINVAL);
    cr_assert_eq(http_parse_int("-1", 0, 10, &v), GP_EINVAL);
    cr_assert_eq(http_parse_int("1e3", 1, 10000, &v), GP_EINVAL);
    cr_assert_eq(http_parse_int("12abc", 1, 10000, &v), GP_EINVAL);
    cr_assert_eq(http_parse_int("", 1, 10000, &v), GP_EINVAL);
    cr_assert_eq(http_parse_int("99999999999999999999999", 0, INT64_MAX, &v), GP_EINVAL);
}

Test(http, bbox_validation) {
    double b[4];
    char err[256];
    cr_assert_eq(http_parse_bbox("111.6,40.8,111.7,40.9", b, err, sizeof err), 0, "%s", err);
    cr_assert_float_eq(b[0], 111.6, 1e-12);
    cr_assert_float_eq(b[3], 40.9, 1e-12);
    cr_assert_eq(http_parse_bbox("-180,-90,180,90", b, err, sizeof err), 0);
    cr_assert_eq(http_parse_bbox("1,2,a,4", b, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "not a number"), "%s", err);
    cr_assert_eq(http_parse_bbox("3,2,1,4", b, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "inverted"), "%s", err);
    cr_assert_eq(http_parse_bbox("1,5,2,4", b, err, sizeof err), GP_EINVAL);
    cr_assert_eq(http_parse_bbox("0,0,200,1", b, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "longitude"), "%s", err);
    cr_assert_eq(http_parse_bbox("0,-91,1,1", b, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "latitude"), "%s", err);
    cr_assert_eq(http_parse_bbox("1,2,3", b, err, sizeof err), GP_EINVAL);
    cr_assert_eq(http_parse_bbox("1,2,3,4,5,6", b, err, sizeof err), GP_EINVAL);
    cr_assert_eq(http_parse_bbox("nan,0,1,1", b, err, sizeof err), GP_EINVAL);
    cr_assert_eq(http_parse_bbox("inf,0,1,1", b, err, sizeof err), GP_EINVAL);
    cr_assert_eq(http_parse_bbox("0x10,0,20,1", b, err, sizeof err), GP_EINVAL);
    cr_assert_eq(http_parse_bbox("1,,3,4", b, err, sizeof err), GP_EINVAL);
    cr_assert_eq(http_parse_bbox("", b, err, sizeof err), GP_EINVAL);
}

Test(auth, sha256_known_vectors) {
    char hex[65];
    auth_sha256_hex("", 0, hex);
    cr_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    auth_sha256_hex("abc", 3, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"; /* 56 bytes: padding spills */
    auth_sha256_hex(two, strlen(two), hex);
    cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char million[1000];
    memset(million, 'a', sizeof million);
    /* 1,000 x 'a' (multi-block) */
    auth_sha256_hex(million, sizeof million, hex);
    cr_assert_str_eq(hex, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

Test(auth, constant_time_equal_and_roles) {
    cr_assert(auth_equal_ct("abcdef", "abcdef", 6));
    cr_assert(!auth_equal_ct("abcdef", "abcdeg", 6));
    cr_assert(!auth_equal_ct("xbcdef", "abcdef", 6));
    cr_assert_eq(auth_role_parse("planner"), AUTH_PLANNER);
    cr_assert_eq(auth_role_parse("admin"), AUTH_ADMIN);
    cr_assert_eq(auth_role_parse("root"), -1);
    cr_assert(AUTH_VIEWER < AUTH_PLANNER && AUTH_PLANNER < AUTH_ADMIN);
}

static char dbpath[64];
static void db_setup(void) {
    snprintf(dbpath, sizeof dbpath, "/tmp/gp_test_http_%d.sqlite", getpid());
    unlink(dbpath);
}
static void db_teardown(void) {
    char side[80];
    unlink(dbpath);
    snprintf(side, sizeof side, "%s-wal", dbpath); unlink(side);
    snprintf(side, sizeof side, "%s-shm", dbpath); unlink(side);
}

Test(auth, tokens_hashed_lookup_revoke, .init = db_setup, .fini = db_teardown) {
    store_t *st;
    char err[256], tok[68], tok2[68], name[64];
    cr_assert_eq(store_open(dbpath, STORE_CREATE, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(auth_token_add(st, "alice", "planner", tok, err, sizeof err), 0, "%s", err);
    cr_assert_eq(strlen(tok), 67);
    cr_assert_eq(auth_token_add(st, "bob", "viewer", tok2, err, sizeof err), 0, "%s", err);
    cr_assert_eq(auth_token_add(st, "alice", "viewer", tok2, err, sizeof err), GP_ECONFLICT);
    cr_assert_eq(auth_token_add(st, "carol", "root", tok2, err, sizeof err), GP_EINVAL);
    /* the plaintext is not in the database, its hash is */
    sqlite3_stmt *s;
    cr_assert_eq(sqlite3_prepare_v2(st->db, "SELECT count(*) FROM tokens WHERE hash = ? OR name = ?", -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_text(s, 1, tok, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, tok, -1, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(s, 0), 0);
    sqlite3_finalize(s);
    void *cache = NULL;
    cr_assert_eq(auth_lookup(st, tok, name, sizeof name, &cache), AUTH_PLANNER);
    cr_assert_str_eq(name, "alice");
    cr_assert_eq(auth_lookup(st, "gp_wrong", name, sizeof name, &cache), AUTH_NONE);
    tok[10] ^= 1;
    cr_assert_eq(auth_lookup(st, tok, name, sizeof name, &cache), AUTH_NONE);
    tok[10] ^= 1;
    cr_assert_eq(auth_token_revoke(st, "alice", err, sizeof err), 0);
    cr_assert_eq(auth_lookup(st, tok, name, sizeof name, &cache), AUTH_NONE);
    cr_assert_eq(auth_token_revoke(st, "alice", err, sizeof err), GP_ENOTFOUND);
    sqlite3_finalize(cache);
    store_close(st);
}

Test(config, file_then_flags) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/gp_test_conf_%d", getpid());
    FILE *f = fopen(path, "w");
    fputs("# server\nport = 9001\n  bind=0.0.0.0  \ncors = \" * \"\nverbose = yes\nrate = 2.5\n", f);
    fclose(f);
    int port = 8080, verbose = 0;
    double rate = 1;
    const char *bind = "127.0.0.1", *cors = NULL;
    const cli_opt_t opts[] = {{"port", 'i', &port, ""}, {"bind", 's', &bind, ""}, {"cors", 's', &cors, ""},
                              {"verbose", 'f', &verbose, ""}, {"rate", 'd', &rate, ""}, {0}};
    config_t *c;
    char err[256];
    cr_assert_eq(config_load(path, opts, &c, err, sizeof err), 0, "%s", err);
    cr_assert_eq(port, 9001);
    cr_assert_str_eq(bind, "0.0.0.0");
    cr_assert_str_eq(cors, " * ");
    cr_assert_eq(verbose, 1);
    cr_assert_float_eq(rate, 2.5, 1e-12);
    char *argv[] = {"serve", "--port", "9002", "--config=x", NULL};
    cr_assert_str_eq(config_flag(4, argv, "config"), "x");
    cr_assert_str_eq(config_flag(4, argv, "port"), "9002");
    cr_assert_null(config_flag(4, argv, "bind"));
    config_free(c);
    f = fopen(path, "w");
    fputs("port = 1\nprot = 2\n", f);
    fclose(f);
    cr_assert_eq(config_load(path, opts, &c, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, ":2: unknown key 'prot'"), "%s", err);
    f = fopen(path, "w");
    fputs("port = eighty\n", f);
    fclose(f);
    cr_assert_eq(config_load(path, opts, &c, err, sizeof err), GP_EINVAL);
    cr_assert(strstr(err, "expects a number"), "%s", err);
    unlink(path);
}

Test(http, error_json_and_status_map) {
    http_res_t res;
    memset(&res, 0, sizeof res);
    http_error(&res, 404, "not found", "no collection '%s'", "a\"b");
    cr_assert_str_eq(res.body.data, "{\"code\":404,\"error\":\"not found\",\"description\":\"no collection 'a\\\"b'\"}\n");
    cr_assert_eq(http_status_for(GP_EINVAL), 400);
    cr_assert_eq(http_status_for(GP_ENOTFOUND), 404);
    cr_assert_eq(http_status_for(GP_ECONFLICT), 409);
    cr_assert_eq(http_status_for(GP_EGEOM), 422);
    cr_assert_eq(http_status_for(GP_EAUTH), 401);
    cr_assert_eq(http_status_for(GP_EFORBIDDEN), 403);
    cr_assert_eq(http_status_for(GP_EDB), 500);
    buf_free(&res.body);
}

Test(http, blob_refcount) {
    http_blob_t *b = http_blob_new("png!", 4);
    cr_assert_not_null(b);
    http_res_t res;
    memset(&res, 0, sizeof res);
    http_res_blob(&res, b);
    cr_assert_eq(b->refs, 2);
    cr_assert_eq(res.ref_len, 4);
    cr_assert_eq(memcmp(res.ref_data, "png!", 4), 0);
    res.ref_release(res.ref_cls);
    cr_assert_eq(b->refs, 1);
    http_blob_unref(b);
}

/* A raw HTTP/1.1 exchange on a fresh socket; returns the whole response in out. */
static void http_roundtrip(int port, const char *request, char *out, size_t outlen) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(write(fd, request, strlen(request)), (ssize_t)strlen(request));
    size_t n = 0;
    ssize_t r;
    while (n < outlen - 1 && (r = read(fd, out + n, outlen - 1 - n)) > 0) n += (size_t)r;
    out[n] = '\0';
    close(fd);
}

Test(http, server_etag_304_and_errors, .init = db_setup, .fini = db_teardown) {
    store_t *st;
    char err[256];
    cr_assert_eq(store_open(dbpath, STORE_CREATE, &st, err, sizeof err), 0, "%s", err);
    cr_assert_eq(store_exec(st, "INSERT INTO communities(code, name, households, geom) VALUES ('150102001001', 'A', 1200,"
                                " CastToMulti(BuildMbr(111.6, 40.8, 111.61, 40.81, 4326)))", err, sizeof err), 0, "%s", err);
    store_close(st);
    http_config_t cfg;
    http_config_defaults(&cfg);
    cfg.db = dbpath;
    cfg.port = 0;
    cfg.threads = 2;
    cfg.access_log = "off";
    http_server_t *srv;
    cr_assert_eq(http_start(&cfg, &srv, err, sizeof err), 0, "%s", err);
    int port = http_port(srv);
    cr_assert_gt(port, 0);
    static char resp[16384];
    http_roundtrip(port, "GET /collections/communities/items/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof resp);
    cr_assert(!strncmp(resp, "HTTP/1.1 200", 12), "%s", resp);
    cr_assert(strstr(resp, "\"households\":1200"), "%s", resp);
    cr_assert(strstr(resp, "[111.61,40.81]"), "%s", resp);
    const char *et = strstr(resp, "ETag: \"");
    cr_assert_not_null(et, "%s", resp);
    char etag[64];
    cr_assert_eq(sscanf(et, "ETag: \"%63[^\"]\"", etag), 1);
    char req[256];
    snprintf(req, sizeof req, "GET /collections/communities/items/1 HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"%s\"\r\nConnection: close\r\n\r\n", etag);
    http_roundtrip(port, req, resp, sizeof resp);
    cr_assert(!strncmp(resp, "HTTP/1.1 304", 12), "%s", resp);
    http_roundtrip(port, "GET /collections/communities/items/99 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof resp);
    cr_assert(!strncmp(resp, "HTTP/1.1 404", 12), "%s", resp);
    cr_assert(strstr(resp, "{\"code\":404,\"error\":\"not found\""), "%s", resp);
    http_roundtrip(port, "GET /collections/communities/items?limit=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof resp);
    cr_assert(!strncmp(resp, "HTTP/1.1 400", 12), "%s", resp);
    cr_assert(strstr(resp, "limit '0' is out of range"), "%s", resp);
    http_roundtrip(port, "DELETE /collections HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof resp);
    cr_assert(!strncmp(resp, "HTTP/1.1 405", 12), "%s", resp);
    cr_assert(strstr(resp, "Allow: GET, HEAD\r\n"), "%s", resp);
    http_stop(srv);
}
