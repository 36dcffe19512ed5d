/* cache_serve.h — serving tiles: the current scene, the tile cache, and keeping both in step with
 * the database (change log and bulk imports), so an edit's tiles expire and re-render at once.
 *
 * Any thread may call cache_serve_tile with its own render_ctx_t. Edits made through the change
 * log (`changes` table) are picked up by cache_serve_sync: the API calls it right after applying a
 * changeset, and cache_serve_tile calls it at most every CACHE_SERVE_POLL_MS for edits made by other
 * processes. Sync reloads only the layers whose tables changed, expires the tiles under each
 * change's before and after geometry at every zoom (in the layers drawn from that table) and the
 * tiles under every label that appeared, moved or vanished; a new meta data_version (bulk import)
 * reloads everything and clears the cache. */
#ifndef GP_CACHE_SERVE_H
#define GP_CACHE_SERVE_H
#include "cache.h"
#include "render.h"
#include <stddef.h>
#include <stdint.h>

#define CACHE_SERVE_POLL_MS 50

typedef struct cache_serve cache_serve_t;

/* Opens db_path read-only, loads the scene with the style file, and sets up the cache: memory
 * budget mem_bytes, disk tier tiles_root/<db file name without extension>/ (tiles_root NULL: memory
 * only). Returns 0 and *out (free with cache_serve_close), or a negative code with err. */
int cache_serve_open(const char *db_path, const char *style_path, const char *tiles_root, size_t mem_bytes,
                     cache_serve_t **out, char *err, size_t errlen);
void cache_serve_close(cache_serve_t *cs);   /* accepts NULL */

/* The tile's PNG from the cache, or rendered with ctx and cached. *hit is 1 when it came from the
 * cache. Returns 0 and a reference in *out (cache_tile_release), or GP_EINVAL for a bad
 * layer/z/x/y/scale with err, or another negative code. */
int cache_serve_tile(cache_serve_t *cs, render_ctx_t *ctx, int layer, int z, uint32_t x, uint32_t y, int scale,
                     cache_tile_t **out, int *hit, char *err, size_t errlen);

/* Applies database changes made since the last sync now (see above). *expired (may be NULL) gets
 * the number of cached tiles removed. 0 or a negative code with err. */
int cache_serve_sync(cache_serve_t *cs, long *expired, char *err, size_t errlen);

/* The current scene with a reference (render_scene_unref), e.g. for TileJSON bounds. */
render_scene_t *cache_serve_scene(cache_serve_t *cs);
cache_t *cache_serve_cache(cache_serve_t *cs);

#endif
