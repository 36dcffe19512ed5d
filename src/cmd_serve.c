/* cmd_serve.c — `gridplan serve`: the HTTP server until SIGINT/SIGTERM. */
#include "cli.h"
#include "config.h"
#include "err.h"
#include "http.h"
#include "log.h"
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int cmd_serve(int argc, char **argv) {
    http_config_t cfg;
    http_config_defaults(&cfg);
    cfg.db = cli_default_db();
    const char *config_path = NULL, *read_role = "none";
    long long max_body = (long long)cfg.max_body;
    const cli_opt_t opts[] = {
        {"db", 's', &cfg.db, "database file"},
        {"port", 'i', &cfg.port, "TCP port (0: any free port, printed at start)"},
        {"bind", 's', &cfg.bind, "address to listen on (IPv4 or IPv6)"},
        {"threads", 'i', &cfg.threads, "worker threads, each with its own database connection"},
        {"config", 's', &config_path, "config file of 'key = value' lines (keys: these option names); flags override it"},
        {"timeout", 'i', &cfg.timeout, "seconds of client inactivity before a connection is closed"},
        {"max-conns", 'i', &cfg.max_conns, "connections in total"},
        {"per-ip", 'i', &cfg.per_ip, "connections per client address (0: no limit)"},
        {"max-body", 'l', &max_body, "request body limit in bytes (larger: 413)"},
        {"read-role", 's', &read_role, "role reads need: none (open) or viewer (token-gated)"},
        {"cors", 's', &cfg.cors, "Access-Control-Allow-Origin value, e.g. '*' (unset: no CORS)"},
        {"access-log", 's', &cfg.access_log, "access log file, '-' for stderr, 'off' for none"},
        {"tiles-dir", 's', &cfg.tiles_dir, "on-disk tile cache directory"},
        {"web-dir", 's', &cfg.web_dir, "the web map's files, served at / to browsers and under /{file}"},
        {"gzip-level", 'i', &cfg.gzip_level, "zlib level 1-9 for gzip responses"},
        {0}};
    config_t *file = NULL;
    char err[512];
    const char *cp = config_flag(argc, argv, "config");
    if (cp && config_load(cp, opts, &file, err, sizeof err)) return cli_fail("%s", err);
    int first;
    int pr = cli_parse("gridplan serve [--db FILE] [--port N] [--bind ADDR] [--threads N] [--config FILE]",
                       "Serves OGC API - Features, the planning API, tiles and the web map over HTTP.", opts, argc, argv,
                       &first);
    if (pr) { config_free(file); return pr > 0 ? 0 : 2; }
    int rc = 1;
    cfg.max_body = max_body > 0 ? (size_t)max_body : 0;
    cfg.read_role = auth_role_parse(read_role);
    if (cfg.read_role < 0 || cfg.read_role > AUTH_VIEWER) {
        cli_fail("--read-role '%s': expected none or viewer", read_role);
        goto end;
    }
    if (cfg.port < 0 || cfg.port > 65535 || cfg.gzip_level < 1 || cfg.gzip_level > 9 || cfg.timeout < 1 || max_body < 1) {
        cli_fail("--port must be 0..65535, --gzip-level 1..9, --timeout and --max-body positive");
        goto end;
    }
    /* Signals are taken synchronously by this thread; the pool threads inherit the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    http_server_t *srv;
    if (http_start(&cfg, &srv, err, sizeof err)) {
        cli_fail("%s", err);
        goto end;
    }
    printf("gridplan: serving %s on http://%s%s%s:%d/ with %d threads\n", cfg.db, strchr(cfg.bind, ':') ? "[" : "",
           cfg.bind, strchr(cfg.bind, ':') ? "]" : "", http_port(srv), cfg.threads);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    log_info("serve: %s received, finishing requests in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");
    http_stop(srv);
    log_info("serve: stopped");
    rc = 0;
end:
    config_free(file);
    return rc;
}
