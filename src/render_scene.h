/* render_scene.h — what tiles are drawn from: every layer read once from the store, converted to
 * Web Mercator, packed into flat arrays with a uniform-grid spatial index and precomputed label
 * placements per zoom.
 *
 * A scene is an immutable, reference-counted snapshot: renderers on any thread take a reference
 * (render_scene_ref) for one tile and drop it after; an edit builds a new scene that shares the
 * unchanged layers (render_scene_reload) and the owner swaps the pointer. Nothing in a scene
 * changes after it is built, so rendering takes no lock and never reprojects. */
#ifndef GP_RENDER_SCENE_H
#define GP_RENDER_SCENE_H
#include "render_style.h"
#include "store.h"
#include <stddef.h>
#include <stdint.h>

/* Source layers (tables, plus the computed service circles). */
enum { RENDER_SRC_COMMUNITIES = 0, RENDER_SRC_GRIDS, RENDER_SRC_BUILDINGS, RENDER_SRC_FACILITIES,
       RENDER_SRC_CIRCLES, RENDER_NSRC };

enum { RENDER_GEOM_POINT = 1, RENDER_GEOM_LINE = 2, RENDER_GEOM_POLYGON = 3 };

typedef struct render_feature {
    double minx, miny, maxx, maxy;  /* Mercator bbox */
    uint32_t ring_first, nrings;    /* into layer->ring_len / ring_off */
    int64_t fid;
    long households;
    int geom_kind;                  /* RENDER_GEOM_*: the dimension of the geometry */
    const char *name, *code, *type; /* into the layer's string arena ("" when absent) */
    double anchor_x, anchor_y;      /* label point (pole of inaccessibility), Mercator */
    double anchor_radius;           /* inscribed circle radius, metres of Mercator */
    int load_class;                 /* communities: RENDER_CLASS_* against the active profile's band */
    int aux_officers;               /* communities: 辅警 by the active profile's police rule */
} render_feature_t;

/* A label placed at one zoom: centre in world pixels of that zoom, box size in logical pixels. */
typedef struct render_label {
    uint32_t feature;
    double cx, cy, w, h;
} render_label_t;

typedef struct render_layer {
    int refs;                       /* scenes sharing it; changed under the scene owner's lock */
    int src;                        /* RENDER_SRC_* */
    size_t n;
    render_feature_t *features;     /* in fid order: drawing order is the same on every tile */
    double *xy;                     /* all coordinates, Mercator, x y pairs */
    uint32_t *ring_off, *ring_len;  /* per ring: first point index into xy/2, point count */
    size_t nrings, npoints;
    char *strings;                  /* arena the feature strings point into */
    double minx, miny, maxx, maxy;  /* extent (empty layer: min > max) */
    /* uniform grid index */
    double gx0, gy0, gcell;
    uint32_t gw, gh;
    uint32_t *cell_start, *cell_items;
    /* label placements per zoom (NULL when the layer carries no labels) */
    render_label_t *labels[21];
    uint32_t nlabels[21];
} render_layer_t;

typedef struct render_scene {
    int refs;                       /* atomic */
    render_layer_t *layers[RENDER_NSRC];
    render_style_t style;
    void *font;                     /* cairo_font_face_t*, shared by every thread (cairo locks it) */
    struct render_rules *rules;     /* the database's rule profile (meta "profile", else hohhot-2023),
                                     * shared by scenes; NULL: the style file's band and police rule */
    int64_t last_change_id;         /* changes.id the scene reflects */
    char data_version[64];          /* meta data_version when loaded */
} render_scene_t;

/* Loads every layer of the store into a new scene with one reference. style is copied. circles
 * start empty (render_scene_with_circles feeds them). Community classes and 辅警 counts come from
 * the rules and plan modules with the database's profile (meta "profile", else hohhot-2023); when
 * no profile can be loaded, from the style file's band and police rule (with a warning).
 * Returns 0 or a negative code with err. */
int render_scene_load(store_t *st, const render_style_t *style, render_scene_t **out, char *err, size_t errlen);

/* A new scene (one reference) sharing old's layers except those whose bit (1 << RENDER_SRC_*) is in
 * reload_mask, which are read again from st. old is unchanged. */
int render_scene_reload(const render_scene_t *old, store_t *st, unsigned reload_mask, render_scene_t **out,
                        char *err, size_t errlen);

/* Builds a layer from n lon/lat WKB polygons with a `type` each (service circles from the plan
 * module) and returns a new scene (one reference) sharing old's other layers. */
int render_scene_with_circles(const render_scene_t *old, size_t n, const unsigned char *const *wkb,
                              const size_t *wkb_len, const char *const *types, render_scene_t **out,
                              char *err, size_t errlen);

render_scene_t *render_scene_ref(render_scene_t *scene);
void render_scene_unref(render_scene_t *scene);   /* frees at zero; accepts NULL */

/* Features of layer whose bbox intersects the box, ascending index order. *ids is grown with
 * realloc (caller frees); returns the count or GP_ENOMEM. */
long render_layer_query(const render_layer_t *layer, double minx, double miny, double maxx, double maxy,
                        uint32_t **ids, size_t *cap);

/* Source index for a table name, -1 if none. */
int render_src_for_table(const char *table);

/* Lon/lat WKB (ISO or SpatiaLite AsBinary, 2D) bbox in Mercator; 0 or -1 on a malformed blob. */
int render_wkb_merc_bbox(const unsigned char *wkb, size_t len, double *minx, double *miny, double *maxx,
                         double *maxy);

#endif
