/* cache.c — sharded LRU (16 mutexes, chained hash + list per shard) over a directory tree of PNGs.
 *
 * Reads of hot tiles take one shard mutex for a hash lookup and a list splice, nothing else; the
 * disk tier is touched only on a memory miss. Expiry walks memory entries once and, on disk, only
 * the directories that exist under the affected zooms, so a big area at z20 costs what is cached,
 * not what could be. */
#include "cache.h"
#include "err.h"
#include "tile.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_SHARDS 16
#define CACHE_BUCKETS 8192   /* per shard, power of two */

typedef struct cache_node {
    cache_key_t key;
    cache_tile_t *tile;
    struct cache_node *hnext, *prev, *next;
} cache_node_t;

typedef struct cache_shard {
    pthread_mutex_t lock;
    cache_node_t *buckets[CACHE_BUCKETS];
    cache_node_t *head, *tail;   /* head = most recently used */
    size_t bytes, entries;
} cache_shard_t;

struct cache {
    char *dir;
    const char *const *layer_names;
    int nlayers;
    size_t max_bytes_per_shard;
    uint64_t generation;         /* atomic */
    /* Expiries and clears hold it exclusively; a put (disk write + insert) and a disk read (read +
     * insert) hold it shared, so no expiry runs between a tile's file appearing and its check. */
    pthread_rwlock_t expire_lock;
    cache_stats_t stats;         /* counters updated atomically */
    cache_shard_t shards[CACHE_SHARDS];
};

static uint64_t key_hash(const cache_key_t *k) {
    uint64_t h = ((uint64_t)k->x << 32) ^ k->y ^ ((uint64_t)k->z << 58) ^ ((uint64_t)k->layer << 48) ^
                 ((uint64_t)k->scale << 44);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static int key_eq(const cache_key_t *a, const cache_key_t *b) {
    return a->x == b->x && a->y == b->y && a->z == b->z && a->layer == b->layer && a->scale == b->scale;
}

static void stat_add(uint64_t *counter, uint64_t n) { __atomic_add_fetch(counter, n, __ATOMIC_RELAXED); }

cache_t *cache_new(const char *dir, size_t max_bytes, const char *const *layer_names, int nlayers) {
    cache_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->layer_names = layer_names;
    c->nlayers = nlayers;
    c->max_bytes_per_shard = max_bytes / CACHE_SHARDS;
    pthread_rwlock_init(&c->expire_lock, NULL);
    for (int i = 0; i < CACHE_SHARDS; i++) pthread_mutex_init(&c->shards[i].lock, NULL);
    if (dir) {
        c->dir = strdup(dir);
        if (!c->dir) { cache_free(c); return NULL; }
    }
    return c;
}

void cache_tile_release(cache_tile_t *t) {
    if (t && __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0) free(t);
}

static void shard_unlink(cache_shard_t *s, cache_node_t *n) {
    if (n->prev) n->prev->next = n->next; else s->head = n->next;
    if (n->next) n->next->prev = n->prev; else s->tail = n->prev;
    n->prev = n->next = NULL;
}

static void shard_push_front(cache_shard_t *s, cache_node_t *n) {
    n->prev = NULL;
    n->next = s->head;
    if (s->head) s->head->prev = n;
    s->head = n;
    if (!s->tail) s->tail = n;
}

/* Removes n from the hash chain and list and frees it (the tile lives on while referenced). */
static void shard_remove(cache_shard_t *s, cache_node_t *n) {
    cache_node_t **pp = &s->buckets[key_hash(&n->key) / CACHE_SHARDS & (CACHE_BUCKETS - 1)];
    while (*pp != n) pp = &(*pp)->hnext;
    *pp = n->hnext;
    shard_unlink(s, n);
    s->bytes -= n->tile->len;
    s->entries--;
    cache_tile_release(n->tile);
    free(n);
}

void cache_free(cache_t *c) {
    if (!c) return;
    for (int i = 0; i < CACHE_SHARDS; i++) {
        cache_shard_t *s = &c->shards[i];
        while (s->head) shard_remove(s, s->head);
        pthread_mutex_destroy(&s->lock);
    }
    pthread_rwlock_destroy(&c->expire_lock);
    free(c->dir);
    free(c);
}

char *cache_tile_path(const cache_t *c, const cache_key_t *k, char *out, size_t outlen) {
    snprintf(out, outlen, "%s/%s/%d/%u/%u%s.png", c->dir ? c->dir : ".", c->layer_names[k->layer], k->z, k->x, k->y,
             k->scale == 2 ? "@2x" : "");
    return out;
}

static cache_tile_t *tile_new(const void *png, size_t len) {
    cache_tile_t *t = malloc(sizeof *t + len);
    if (!t) return NULL;
    t->refs = 1;
    t->len = len;
    memcpy(t->data, png, len);
    uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a: stable across runs, so ETags survive restarts */
    const unsigned char *p = png;
    for (size_t i = 0; i < len; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    snprintf(t->etag, sizeof t->etag, "\"%016llx\"", (unsigned long long)h);
    return t;
}

/* Inserts t (takes one reference) replacing any entry of the key, then evicts to the budget. */
/* Inserts t (taking the caller's reference) unless an expiry ran since generation. The check is
 * made under the shard lock: an expiry bumps the generation before it takes the shard locks to
 * remove tiles, so either this insert sees the new generation and drops the tile, or the expiry's
 * removal pass finds the tile already inserted. Checking before the lock left a window in which a
 * tile rendered from the old scene was inserted just after the expiry swept its shard. */
static void memory_insert(cache_t *c, const cache_key_t *k, cache_tile_t *t, uint64_t generation) {
    uint64_t h = key_hash(k);
    cache_shard_t *s = &c->shards[h % CACHE_SHARDS];
    cache_node_t *n = malloc(sizeof *n);
    if (!n) { cache_tile_release(t); return; }
    n->key = *k;
    n->tile = t;
    pthread_mutex_lock(&s->lock);
    if (cache_generation(c) != generation) {
        pthread_mutex_unlock(&s->lock);
        free(n);
        cache_tile_release(t);
        return;
    }
    cache_node_t **bucket = &s->buckets[h / CACHE_SHARDS & (CACHE_BUCKETS - 1)];
    for (cache_node_t *o = *bucket; o; o = o->hnext)
        if (key_eq(&o->key, k)) { shard_remove(s, o); break; }
    n->hnext = *bucket;
    *bucket = n;
    shard_push_front(s, n);
    s->bytes += t->len;
    s->entries++;
    while (s->bytes > c->max_bytes_per_shard && s->tail && s->tail != n) shard_remove(s, s->tail);
    pthread_mutex_unlock(&s->lock);
}

static cache_tile_t *disk_read(cache_t *c, const cache_key_t *k) {
    if (!c->dir) return NULL;
    char path[1024];
    cache_tile_path(c, k, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat sb;
    cache_tile_t *t = NULL;
    if (fstat(fd, &sb) == 0 && sb.st_size > 0 && sb.st_size < (64 << 20)) {
        unsigned char *tmp = malloc((size_t)sb.st_size);
        if (tmp && read(fd, tmp, (size_t)sb.st_size) == sb.st_size) t = tile_new(tmp, (size_t)sb.st_size);
        free(tmp);
    }
    close(fd);
    return t;
}

int cache_get(cache_t *c, const cache_key_t *k, cache_tile_t **out) {
    uint64_t h = key_hash(k);
    cache_shard_t *s = &c->shards[h % CACHE_SHARDS];
    pthread_mutex_lock(&s->lock);
    for (cache_node_t *n = s->buckets[h / CACHE_SHARDS & (CACHE_BUCKETS - 1)]; n; n = n->hnext) {
        if (!key_eq(&n->key, k)) continue;
        if (s->head != n) { shard_unlink(s, n); shard_push_front(s, n); }
        __atomic_add_fetch(&n->tile->refs, 1, __ATOMIC_RELAXED);
        *out = n->tile;
        pthread_mutex_unlock(&s->lock);
        stat_add(&c->stats.hits_memory, 1);
        return 0;
    }
    pthread_mutex_unlock(&s->lock);
    pthread_rwlock_rdlock(&c->expire_lock);
    uint64_t gen = cache_generation(c);
    cache_tile_t *t = disk_read(c, k);
    if (t) {
        __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
        memory_insert(c, k, t, gen);
    }
    pthread_rwlock_unlock(&c->expire_lock);
    if (!t) { stat_add(&c->stats.misses, 1); return GP_ENOTFOUND; }
    stat_add(&c->stats.hits_disk, 1);
    *out = t;
    return 0;
}

uint64_t cache_generation(cache_t *c) { return __atomic_load_n(&c->generation, __ATOMIC_ACQUIRE); }

static int mkdirs(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

static void disk_write(cache_t *c, const cache_key_t *k, const cache_tile_t *t) {
    if (!c->dir) return;
    char path[1024], tmp[1100];
    cache_tile_path(c, k, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%d.%lx.tmp", path, (int)getpid(), (unsigned long)pthread_self());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 && errno == ENOENT && mkdirs(tmp) == 0) fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    int ok = write(fd, t->data, t->len) == (ssize_t)t->len;
    ok &= close(fd) == 0;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
}

int cache_put(cache_t *c, const cache_key_t *k, const void *png, size_t len, uint64_t generation,
              cache_tile_t **out) {
    cache_tile_t *t = tile_new(png, len);
    if (!t) return GP_ENOMEM;
    *out = t;
    /* Shared with other puts, exclusive with expiries: the generation cannot move while the file is
     * written and the tile inserted, so a tile rendered before an expiry never outlives it. */
    pthread_rwlock_rdlock(&c->expire_lock);
    if (cache_generation(c) != generation) {
        pthread_rwlock_unlock(&c->expire_lock);
        stat_add(&c->stats.stale_puts, 1);
        return 0;
    }
    stat_add(&c->stats.puts, 1);
    disk_write(c, k, t);
    __atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
    memory_insert(c, k, t, generation);
    pthread_rwlock_unlock(&c->expire_lock);
    return 0;
}

/* ---- expiry ---- */

typedef struct tile_ranges {
    unsigned layer_mask;
    int valid[TILE_MAX_ZOOM + 1];
    uint32_t x0[TILE_MAX_ZOOM + 1], y0[TILE_MAX_ZOOM + 1], x1[TILE_MAX_ZOOM + 1], y1[TILE_MAX_ZOOM + 1];
} tile_ranges_t;

static int ranges_hit(const tile_ranges_t *r, size_t n, int layer, int z, uint32_t x, uint32_t y, int check_y) {
    for (size_t i = 0; i < n; i++)
        if (r[i].valid[z] && (!r[i].layer_mask || (r[i].layer_mask & (1u << layer))) && x >= r[i].x0[z] && x <= r[i].x1[z] && (!check_y || (y >= r[i].y0[z] && y <= r[i].y1[z])))
            return 1;
    return 0;
}

/* Drops the memory entries inside the ranges (every entry when r is NULL). */
static long memory_remove(cache_t *c, const tile_ranges_t *r, size_t n) {
    long removed = 0;
    for (int i = 0; i < CACHE_SHARDS; i++) {
        cache_shard_t *s = &c->shards[i];
        pthread_mutex_lock(&s->lock);
        for (cache_node_t *node = s->head, *next; node; node = next) {
            next = node->next;
            if (!r || ranges_hit(r, n, node->key.layer, node->key.z, node->key.x, node->key.y, 1)) {
                shard_remove(s, node);
                removed++;
            }
        }
        pthread_mutex_unlock(&s->lock);
    }
    return removed;
}

static long expire_disk(cache_t *c, const tile_ranges_t *r, size_t n) {
    long removed = 0;
    char path[1024];
    for (int layer = 0; layer < c->nlayers; layer++)
        for (int z = 0; z <= TILE_MAX_ZOOM; z++) {
            int any = 0;
            for (size_t i = 0; i < n && !any; i++)
                any = r[i].valid[z] && (!r[i].layer_mask || (r[i].layer_mask & (1u << layer)));
            if (!any) continue;
            snprintf(path, sizeof path, "%s/%s/%d", c->dir, c->layer_names[layer], z);
            DIR *dz = opendir(path);
            if (!dz) continue;
            struct dirent *ex;
            while ((ex = readdir(dz))) {
                char *end;
                unsigned long x = strtoul(ex->d_name, &end, 10);
                if (end == ex->d_name || *end || !ranges_hit(r, n, layer, z, (uint32_t)x, 0, 0)) continue;
                char xdir[1400];
                snprintf(xdir, sizeof xdir, "%s/%s", path, ex->d_name);
                DIR *dx = opendir(xdir);
                if (!dx) continue;
                struct dirent *ey;
                while ((ey = readdir(dx))) {
                    unsigned long y = strtoul(ey->d_name, &end, 10);
                    if (end == ey->d_name || (strcmp(end, ".png") && strcmp(end, "@2x.png"))) continue;
                    if (!ranges_hit(r, n, layer, z, (uint32_t)x, (uint32_t)y, 1)) continue;
                    char file[1700];
                    snprintf(file, sizeof file, "%s/%s", xdir, ey->d_name);
                    if (unlink(file) == 0) removed++;
                }
                closedir(dx);
            }
            closedir(dz);
        }
    return removed;
}

long cache_expire(cache_t *c, const cache_area_t *areas, size_t nareas) {
    if (nareas == 0) return 0;
    tile_ranges_t *r = calloc(nareas, sizeof *r);
    if (!r) return GP_ENOMEM;
    for (size_t i = 0; i < nareas; i++) r[i].layer_mask = areas[i].layer_mask;
    for (size_t i = 0; i < nareas; i++)
        for (int z = areas[i].zmin < 0 ? 0 : areas[i].zmin; z <= areas[i].zmax && z <= TILE_MAX_ZOOM; z++)
            r[i].valid[z] = tile_range_merc(z, areas[i].minx, areas[i].miny, areas[i].maxx, areas[i].maxy,
                                            areas[i].margin_px, &r[i].x0[z], &r[i].y0[z], &r[i].x1[z],
                                            &r[i].y1[z]) == 0;
    pthread_rwlock_wrlock(&c->expire_lock);
    __atomic_add_fetch(&c->generation, 1, __ATOMIC_ACQ_REL);
    long removed = memory_remove(c, r, nareas);
    stat_add(&c->stats.expired_memory, (uint64_t)removed);
    long disk = c->dir ? expire_disk(c, r, nareas) : 0;
    stat_add(&c->stats.expired_disk, (uint64_t)disk);
    pthread_rwlock_unlock(&c->expire_lock);
    free(r);
    return removed + disk;
}

static long clear_count;

static int clear_visit(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    if (ftw->level == 0) return 0;
    if (flag == FTW_DP) rmdir(path);
    else if (unlink(path) == 0) clear_count++;
    return 0;
}

long cache_clear(cache_t *c) {
    static pthread_mutex_t clear_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_rwlock_wrlock(&c->expire_lock);
    __atomic_add_fetch(&c->generation, 1, __ATOMIC_ACQ_REL);
    long removed = memory_remove(c, NULL, 0);
    if (c->dir) {
        pthread_mutex_lock(&clear_lock);
        clear_count = 0;
        for (int layer = 0; layer < c->nlayers; layer++) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", c->dir, c->layer_names[layer]);
            nftw(path, clear_visit, 16, FTW_DEPTH | FTW_PHYS);
        }
        removed += clear_count;
        pthread_mutex_unlock(&clear_lock);
    }
    pthread_rwlock_unlock(&c->expire_lock);
    return removed;
}

void cache_get_stats(cache_t *c, cache_stats_t *out) {
    *out = c->stats;
    out->entries = out->bytes = 0;
    for (int i = 0; i < CACHE_SHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].lock);
        out->entries += c->shards[i].entries;
        out->bytes += c->shards[i].bytes;
        pthread_mutex_unlock(&c->shards[i].lock);
    }
}
