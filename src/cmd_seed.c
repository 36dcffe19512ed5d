/* cmd_seed.c — `gridplan seed`: renders every tile of a layer over a zoom range and area into the
 * tile cache (tiles/<db>/...), with worker threads, a progress bar and a summary. */
#include "cache_serve.h"
#include "cli.h"
#include "geo.h"
#include "log.h"
#include "tile.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct seed_job {
    cache_serve_t *cs;
    int layer, scale, zmin, zmax;
    uint32_t x0[TILE_MAX_ZOOM + 1], y0[TILE_MAX_ZOOM + 1], w[TILE_MAX_ZOOM + 1];
    uint64_t first[TILE_MAX_ZOOM + 2];   /* index of each zoom's first tile in the whole run */
    uint64_t next, done, cached, bytes, failed;   /* atomic */
    char err[256];
} seed_job_t;

static void *seed_worker(void *arg) {
    seed_job_t *job = arg;
    render_ctx_t *ctx = render_ctx_new();
    char err[256];
    for (;;) {
        uint64_t i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (i >= job->first[job->zmax + 1] || !ctx) break;
        int z = job->zmin;
        while (i >= job->first[z + 1]) z++;
        uint64_t k = i - job->first[z];
        uint32_t x = job->x0[z] + (uint32_t)(k % job->w[z]), y = job->y0[z] + (uint32_t)(k / job->w[z]);
        cache_tile_t *tile;
        int hit;
        if (cache_serve_tile(job->cs, ctx, job->layer, z, x, y, job->scale, &tile, &hit, err, sizeof err) != 0) {
            if (__atomic_fetch_add(&job->failed, 1, __ATOMIC_RELAXED) == 0) snprintf(job->err, sizeof job->err, "%s", err);
            continue;
        }
        __atomic_add_fetch(&job->bytes, tile->len, __ATOMIC_RELAXED);
        if (hit) __atomic_add_fetch(&job->cached, 1, __ATOMIC_RELAXED);
        cache_tile_release(tile);
        __atomic_add_fetch(&job->done, 1, __ATOMIC_RELAXED);
    }
    if (!ctx) __atomic_add_fetch(&job->failed, 1, __ATOMIC_RELAXED);
    render_ctx_free(ctx);
    return NULL;
}

/* CPU seconds of the whole process: on a shared machine, tiles per CPU second is the stable figure. */
static double seed_cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int cmd_seed(int argc, char **argv) {
    const char *db = cli_default_db(), *layer_name = "default", *zooms = "11-16", *bbox = NULL, *tiles = "tiles";
    const char *style = render_style_default_path();
    int threads = (int)sysconf(_SC_NPROCESSORS_ONLN), scale = 1, memory_only = 0, first;
    const cli_opt_t opts[] = {
        {"db", 's', &db, "database file"},
        {"layer", 's', &layer_name, "communities|grids|buildings|facilities|circles|police|default"},
        {"zoom", 's', &zooms, "zoom range a-b (0-20)"},
        {"bbox", 's', &bbox, "W,S,E,N in lon/lat (default: the communities' extent)"},
        {"threads", 'i', &threads, "worker threads"},
        {"scale", 'i', &scale, "1 (256 px) or 2 (512 px @2x tiles)"},
        {"tiles", 's', &tiles, "cache root; tiles go to <root>/<db name>/<layer>/<z>/<x>/<y>.png"},
        {"memory", 'f', &memory_only, "render without writing the disk cache (timing)"},
        {"style", 's', &style, "style file"},
        {0}};
    int pr = cli_parse("gridplan seed [options]", "Renders a zoom range of a layer into the tile cache.", opts, argc,
                       argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    seed_job_t job;
    memset(&job, 0, sizeof job);
    job.scale = scale;
    if ((job.layer = render_layer_id(layer_name)) < 0) return cli_fail("unknown layer '%s'", layer_name), 2;
    if (tile_parse_zooms(zooms, &job.zmin, &job.zmax)) return cli_fail("--zoom '%s' is not a-b within 0-20", zooms), 2;
    if (scale != 1 && scale != 2) return cli_fail("--scale must be 1 or 2"), 2;
    if (threads < 1 || threads > 256) return cli_fail("--threads must be 1-256"), 2;
    double w = 0, s = 0, e = 0, n = 0;
    if (bbox && (sscanf(bbox, "%lf,%lf,%lf,%lf", &w, &s, &e, &n) != 4 || w > e || s > n))
        return cli_fail("--bbox '%s' is not W,S,E,N", bbox), 2;
    char err[512];
    cache_serve_t *cs;
    if (cache_serve_open(db, style, memory_only ? NULL : tiles, 64u << 20, &cs, err, sizeof err))
        return cli_fail("%s", err);
    job.cs = cs;
    double minx, miny, maxx, maxy;
    if (bbox) {
        geo_lonlat_to_merc(w, s, &minx, &miny);
        geo_lonlat_to_merc(e, n, &maxx, &maxy);
    } else {
        render_scene_t *scene = cache_serve_scene(cs);
        const render_layer_t *l = scene->layers[RENDER_SRC_COMMUNITIES];
        minx = l->minx; miny = l->miny; maxx = l->maxx; maxy = l->maxy;
        render_scene_unref(scene);
        if (minx > maxx) { cache_serve_close(cs); return cli_fail("%s has no communities: give --bbox", db); }
    }
    for (int z = job.zmin; z <= job.zmax; z++) {
        uint32_t x1, y1;
        job.first[z + 1] = job.first[z];
        if (tile_range_merc(z, minx, miny, maxx, maxy, 0, &job.x0[z], &job.y0[z], &x1, &y1) != 0) {
            job.w[z] = 1;
            continue;
        }
        job.w[z] = x1 - job.x0[z] + 1;
        job.first[z + 1] += (uint64_t)job.w[z] * (y1 - job.y0[z] + 1);
    }
    uint64_t total = job.first[job.zmax + 1] - job.first[job.zmin];
    job.next = job.first[job.zmin];
    progress_t bar;
    progress_start(&bar, "seed", total);
    double t0 = log_now(), cpu0 = seed_cpu_seconds();
    pthread_t *th = calloc((size_t)threads, sizeof *th);
    int started = 0;
    for (int i = 0; th && i < threads; i++)
        if (pthread_create(&th[i], NULL, seed_worker, &job) == 0) started++;
    if (started == 0) seed_worker(&job);
    while (__atomic_load_n(&job.done, __ATOMIC_RELAXED) + __atomic_load_n(&job.failed, __ATOMIC_RELAXED) < total &&
           started > 0) {
        progress_update(&bar, __atomic_load_n(&job.done, __ATOMIC_RELAXED));
        usleep(100000);
    }
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    free(th);
    progress_update(&bar, job.done);
    progress_finish(&bar);
    double secs = log_now() - t0, cpu = seed_cpu_seconds() - cpu0;
    printf("seeded %s z%d-%d%s: %llu tiles (%llu already cached) in %.2f s = %.0f tiles/s, %llu bytes "
           "(mean %.0f), %d threads, %.2f CPU s (%.0f tiles per CPU second)%s\n",
           layer_name, job.zmin, job.zmax, scale == 2 ? " @2x" : "", (unsigned long long)job.done,
           (unsigned long long)job.cached, secs, secs > 0 ? job.done / secs : 0.0, (unsigned long long)job.bytes,
           job.done ? (double)job.bytes / job.done : 0.0, started, cpu, cpu > 0 ? job.done / cpu : 0.0, memory_only ? ", memory only" : "");
    cache_serve_close(cs);
    if (job.failed) return cli_fail("%llu tiles failed: %s", (unsigned long long)job.failed, job.err);
    return 0;
}
