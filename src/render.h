/* render.h — draws one XYZ tile of a styled layer from a scene into PNG bytes.
 *
 * A render_ctx_t holds one thread's reusable Cairo surfaces (256 and 512 px) and PNG scratch, so a
 * tile allocates nothing but its output. Contexts are not shared between threads; scenes are. */
#ifndef GP_RENDER_H
#define GP_RENDER_H
#include "buf.h"
#include "render_scene.h"
#include <stddef.h>
#include <stdint.h>

/* Published tile layers (the /tiles/{layer}/ ids). */
enum { RENDER_LAYER_COMMUNITIES = 0, RENDER_LAYER_GRIDS, RENDER_LAYER_BUILDINGS, RENDER_LAYER_FACILITIES,
       RENDER_LAYER_CIRCLES, RENDER_LAYER_POLICE, RENDER_LAYER_DEFAULT, RENDER_NLAYERS };

/* Layer id for a name ("communities", ...), -1 if unknown; and the name of an id. */
int render_layer_id(const char *name);
const char *render_layer_name(int layer);

typedef struct render_ctx render_ctx_t;

/* Creates one thread's context; NULL when out of memory. Free with render_ctx_free (accepts NULL). */
render_ctx_t *render_ctx_new(void);
void render_ctx_free(render_ctx_t *ctx);

/* Renders layer at z/x/y (scale 1: 256 px; 2: 512 px over the same extent) and appends the PNG to
 * out. Sets *empty to 1 when nothing was drawn (the PNG is then fully transparent). Returns 0, or
 * GP_EINVAL for a bad layer/z/x/y/scale (err says which), GP_ENOMEM. */
int render_tile(render_ctx_t *ctx, const render_scene_t *scene, int layer, int z, uint32_t x, uint32_t y,
                int scale, buf_t *out, int *empty, char *err, size_t errlen);

/* The last rendered tile's pixels (premultiplied ARGB32, Cairo layout) for tests and tools. */
const uint32_t *render_ctx_pixels(const render_ctx_t *ctx, int *width, int *height, int *stride);

/* Pixels of margin every layer may draw beyond a feature's bbox (outlines, points, halos): expiry
 * widens changed areas by this much at each zoom. */
#define RENDER_MARGIN_PX 12.0

#endif
