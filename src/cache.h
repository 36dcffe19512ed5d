/* cache.h — the tile cache: a sharded in-memory LRU of PNG bytes with ETags, backed by files under
 * tiles/<db>/<layer>/<z>/<x>/<y>[@2x].png, and expiry of exactly the tiles under changed areas.
 *
 * Entries are immutable and reference-counted, so a reader keeps its bytes while another thread
 * expires or evicts them. A generation counter, bumped by every expiry, lets a renderer that
 * started before an edit find out that its tile is stale: cache_put drops such tiles. */
#ifndef GP_CACHE_H
#define GP_CACHE_H
#include <stddef.h>
#include <stdint.h>

typedef struct cache cache_t;

typedef struct cache_tile {
    int refs;              /* atomic */
    size_t len;
    char etag[20];         /* "\"<16 hex>\"" (quoted, as sent) */
    unsigned char data[];  /* the PNG */
} cache_tile_t;

typedef struct cache_key {
    int layer, z, scale;   /* layer: render layer id; scale 1 or 2 */
    uint32_t x, y;
} cache_key_t;

/* An area whose tiles expire: Mercator box widened by margin_px pixels at each zoom zmin..zmax, in
 * the layers whose bit (1 << layer) is in layer_mask (0: every layer). */
typedef struct cache_area {
    double minx, miny, maxx, maxy, margin_px;
    int zmin, zmax;
    unsigned layer_mask;
} cache_area_t;

typedef struct cache_stats {
    uint64_t hits_memory, hits_disk, misses, puts, stale_puts, expired_memory, expired_disk, entries, bytes;
} cache_stats_t;

/* Creates a cache holding up to max_bytes of PNG in memory; dir (created if missing) is the disk
 * tier root, NULL for memory only. layer_names[layer] names each layer's directory. NULL on failure. */
cache_t *cache_new(const char *dir, size_t max_bytes, const char *const *layer_names, int nlayers);
void cache_free(cache_t *c);   /* accepts NULL */

/* Looks the tile up in memory, then on disk (a disk hit is promoted to memory). Returns 0 and a
 * reference in *out (release with cache_tile_release), or GP_ENOTFOUND. */
int cache_get(cache_t *c, const cache_key_t *key, cache_tile_t **out);

/* The generation to pass to cache_put: read it BEFORE taking the scene a tile is rendered from. */
uint64_t cache_generation(cache_t *c);

/* Stores a rendered tile in memory and on disk (written atomically: temp file + rename) unless an
 * expiry happened since generation, and returns a reference to an entry holding the bytes either
 * way (0), or GP_ENOMEM. */
int cache_put(cache_t *c, const cache_key_t *key, const void *png, size_t len, uint64_t generation,
              cache_tile_t **out);

void cache_tile_release(cache_tile_t *t);   /* accepts NULL */

/* Removes every tile of every layer and scale that intersects any of the areas, in memory and on
 * disk; returns the number of tiles removed (memory entries + files). */
long cache_expire(cache_t *c, const cache_area_t *areas, size_t nareas);

/* Removes everything (bulk import changed the data). Returns tiles removed. */
long cache_clear(cache_t *c);

void cache_get_stats(cache_t *c, cache_stats_t *out);

/* Disk path of a tile under dir (for tools and tests): writes into out, returns out. */
char *cache_tile_path(const cache_t *c, const cache_key_t *key, char *out, size_t outlen);

#endif
