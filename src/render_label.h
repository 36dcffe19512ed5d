/* render_label.h — CJK labels: the FreeType font, deterministic placement per zoom in world pixels,
 * and drawing of every placed label that touches a tile.
 *
 * Placement is global per zoom (greedy by priority over the whole layer, computed once when the
 * layer is built), so every tile agrees on which labels exist and where: a tile draws each placed
 * label whose box intersects it, at the same world position, so a label spanning two tiles is drawn
 * half on each (never cut) and exists once (never repeated). */
#ifndef GP_RENDER_LABEL_H
#define GP_RENDER_LABEL_H
#include "render_scene.h"
#include <cairo.h>

/* Opens the font file as a cairo font face (FreeType). *font is a cairo_font_face_t* with one
 * reference; close with render_label_font_close (accepts NULL). */
int render_label_font_open(const char *path, void **font, char *err, size_t errlen);
void *render_label_font_ref(void *font);
void render_label_font_close(void *font);

/* Places labels for every zoom of a communities (names) or grids (codes) layer into
 * layer->labels[z]. Returns 0 or GP_ENOMEM. */
int render_label_place(render_layer_t *layer, const render_style_t *style, void *font);

/* Draws the placed labels of layer at zoom z that intersect the tile whose top-left world pixel is
 * (ox, oy); cr is set up in logical pixels of the tile. */
void render_label_draw(cairo_t *cr, const render_layer_t *layer, const render_style_t *style, void *font, int z,
                       double ox, double oy);

/* Visits the label boxes (world pixels of zoom z) present in a but not in b, with the same position
 * and size: callers expire the tiles under labels that appeared, moved or vanished. */
void render_label_diff(const render_layer_t *a, const render_layer_t *b, int z,
                       void (*visit)(void *user, int z, double minx, double miny, double maxx, double maxy),
                       void *user);

#endif
