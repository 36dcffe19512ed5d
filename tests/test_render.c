/* test_render.c — tiles decoded back to pixels: class colours, transparency, @2x size, labels drawn
 * once across a 2x2 block, police colours, bad input, PNG round trip. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include "err.h"
#include "render.h"
#include "render_png.h"
#include "render_fixture.h"

static char path[64];
static store_t *st;
static render_scene_t *scene;
static render_ctx_t *ctx;
static render_style_t style;

static void setup(void) {
    char err[512];
    snprintf(path, sizeof path, "/tmp/gp_test_render_%d.sqlite", getpid());
    cr_assert_eq(fx_build(path, &st), 0);
    /* hohhot-2023 household band, ningxia-2020 police ratios: the demo profile */
    cr_assert_eq(store_meta_set(st, "profile", "demo", err, sizeof err), 0, "%s", err);
    cr_assert_eq(render_style_load("geodata/styles/default.json", &style, err, sizeof err), 0, "%s", err);
    cr_assert_eq(render_scene_load(st, &style, &scene, err, sizeof err), 0, "%s", err);
    ctx = render_ctx_new();
    cr_assert(ctx);
}
static void teardown(void) {
    render_ctx_free(ctx);
    render_scene_unref(scene);
    store_close(st);
    fx_remove(path);
}
TestSuite(render, .init = setup, .fini = teardown);

/* Renders and decodes a tile; the caller frees the pixels. */
static unsigned char *tile_rgba(int layer, int z, uint32_t x, uint32_t y, int scale, int *w, int *h, size_t *bytes) {
    buf_t png = {0};
    char err[256];
    int empty;
    cr_assert_eq(render_tile(ctx, scene, layer, z, x, y, scale, &png, &empty, err, sizeof err), 0, "%s", err);
    unsigned char *rgba;
    cr_assert_eq(render_png_decode(png.data, png.len, &rgba, w, h), 0);
    if (bytes) *bytes = png.len;
    buf_free(&png);
    return rgba;
}

static void assert_colour(const unsigned char *px, const render_rgba_t *c, const char *what) {
    int r = (int)(c->r * 255 + .5), g = (int)(c->g * 255 + .5), b = (int)(c->b * 255 + .5), a = (int)(c->a * 255 + .5);
    cr_assert(abs(px[0] - r) <= 3 && abs(px[1] - g) <= 3 && abs(px[2] - b) <= 3 && abs(px[3] - a) <= 1,
              "%s: pixel %d,%d,%d,%d, expected %d,%d,%d,%d", what, px[0], px[1], px[2], px[3], r, g, b, a);
}

Test(render, community_interiors_have_their_class_colour) {
    int w, h;
    struct { uint32_t x, y; int cls; const char *name; } probe[] = {
        {FX_TX, FX_TY, RENDER_CLASS_WITHIN, "A within"},
        {FX_TX + 6, FX_TY, RENDER_CLASS_UNDER, "B under"},
        {FX_TX + 1, FX_TY + 6, RENDER_CLASS_OVER, "C over"},
        {FX_TX + 6, FX_TY + 6, RENDER_CLASS_SPLIT, "D must split"}};
    for (size_t i = 0; i < 4; i++) {
        unsigned char *px = tile_rgba(RENDER_LAYER_COMMUNITIES, FX_Z, probe[i].x, probe[i].y, 1, &w, &h, NULL);
        cr_assert_eq(w, 256);
        assert_colour(px + (30 * 256 + 30) * 4, &style.class_fill[probe[i].cls], probe[i].name);
        free(px);
    }
}

Test(render, outline_drawn_on_the_boundary) {
    /* C spans 1000 m either side of its tile centre: 1000 / 4.777 = 209 px from pixel 128 */
    int w, h;
    unsigned char *px = tile_rgba(RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX + 1, FX_TY + 6, 2, &w, &h, NULL);
    cr_assert_eq(w, 512);
    cr_assert_eq(h, 512);
    /* at @2x C covers the whole tile: no boundary inside; the tile to its left holds its west edge */
    free(px);
    double a, b, c, d, cx, cy;
    fx_tile_centre(FX_TX + 1, FX_TY + 6, &cx, &cy);
    tile_bounds(FX_Z, FX_TX, FX_TY + 6, &a, &b, &c, &d);
    int edge = (int)((cx - 1000 - a) / tile_resolution(FX_Z));
    px = tile_rgba(RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX, FX_TY + 6, 1, &w, &h, NULL);
    const unsigned char *on = px + (100 * 256 + edge) * 4;
    cr_assert(on[0] < 110 && on[3] > 200, "outline pixel %d,%d,%d,%d at x=%d", on[0], on[1], on[2], on[3], edge);
    cr_assert_eq(px[(100 * 256 + edge - 6) * 4 + 3], 0, "outside the community is transparent");
    free(px);
}

Test(render, empty_tile_is_transparent_and_small) {
    int w, h;
    size_t bytes;
    unsigned char *px = tile_rgba(RENDER_LAYER_DEFAULT, FX_Z, FX_TX + 20, FX_TY + 20, 1, &w, &h, &bytes);
    for (int i = 0; i < w * h; i++) cr_assert_eq(px[4 * i + 3], 0, "pixel %d not transparent", i);
    cr_assert_lt(bytes, 200);
    free(px);
}

Test(render, retina_tile_is_512_and_matches_the_256_tile) {
    int w, h, w2, h2;
    unsigned char *a = tile_rgba(RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX + 6, FX_TY + 6, 1, &w, &h, NULL);
    unsigned char *b = tile_rgba(RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX + 6, FX_TY + 6, 2, &w2, &h2, NULL);
    cr_assert(w2 == 512 && h2 == 512 && w == 256);
    /* same extent: logical pixel (20,20) is device pixel (40,40) */
    cr_assert(!memcmp(a + (20 * 256 + 20) * 4, b + (40 * 512 + 40) * 4, 4));
    free(a);
    free(b);
}

/* Dark text pixels (glyph cores; the fill and halo are light). */
static long text_pixels(const unsigned char *px, int w, int h, int x0, int y0, int x1, int y1) {
    long n = 0;
    for (int y = y0; y < y1 && y < h; y++)
        for (int x = x0; x < x1 && x < w; x++) {
            const unsigned char *p = px + ((size_t)y * w + x) * 4;
            n += p[3] > 200 && p[0] < 90 && p[1] < 90 && p[2] < 90;
        }
    return n;
}

Test(render, label_drawn_once_across_a_2x2_block) {
    int w, h;
    long per_tile[4], total = 0;
    int touched = 0;
    for (int k = 0; k < 4; k++) {
        unsigned char *px = tile_rgba(RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX + (k & 1), FX_TY + (k >> 1), 1, &w, &h, NULL);
        per_tile[k] = text_pixels(px, w, h, 0, 0, w, h);
        total += per_tile[k];
        touched += per_tile[k] > 0;
        free(px);
    }
    /* B has the same name, wholly inside one tile: the reference glyph count */
    unsigned char *px = tile_rgba(RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX + 6, FX_TY, 1, &w, &h, NULL);
    long reference = text_pixels(px, w, h, 0, 0, w, h);
    free(px);
    cr_assert_gt(reference, 50, "the reference label is drawn");
    cr_assert_geq(touched, 2, "the label straddles tiles (per tile %ld %ld %ld %ld)", per_tile[0], per_tile[1],
                  per_tile[2], per_tile[3]);
    cr_assert_eq(total, reference, "stitched label has %ld text pixels, a whole one %ld", total, reference);
    /* the neighbours of the block carry no copy (A's east outline crosses x ~ 160 of that tile) */
    px = tile_rgba(RENDER_LAYER_COMMUNITIES, FX_Z, FX_TX + 2, FX_TY + 1, 1, &w, &h, NULL);
    cr_assert_eq(text_pixels(px, w, h, 0, 0, 140, h), 0);
    free(px);
}

Test(render, police_layer_coloured_by_aux_officer_count) {
    /* D: 5000 households -> 2 + ceil(2000 / 2000) = 3 辅警 -> colours[3 - first] */
    cr_assert_eq(render_style_aux_officers(&style, 5000), 3);
    cr_assert_eq(render_style_aux_officers(&style, 3000), 2);
    cr_assert_eq(render_style_aux_officers(&style, 3001), 3);
    cr_assert_eq(render_style_aux_officers(&style, 7001), 5);
    /* through the plan module: the database's profile (demo: hohhot-2023 band, ningxia-2020 police) */
    cr_assert_not_null(scene->rules, "rule profiles loaded");
    const render_layer_t *l = scene->layers[RENDER_SRC_COMMUNITIES];
    cr_assert_eq(l->features[3].aux_officers, 3);
    cr_assert_eq(l->features[3].load_class, RENDER_CLASS_SPLIT);
    cr_assert_eq(l->features[1].load_class, RENDER_CLASS_UNDER);
    int w, h;
    unsigned char *px = tile_rgba(RENDER_LAYER_POLICE, FX_Z, FX_TX + 6, FX_TY + 6, 1, &w, &h, NULL);
    assert_colour(px + (30 * 256 + 30) * 4, &style.police_colours[3 - style.police_first], "D police");
    free(px);
}

Test(render, bad_input_is_refused) {
    buf_t png = {0};
    char err[256];
    int empty;
    cr_assert_eq(render_tile(ctx, scene, RENDER_LAYER_DEFAULT, 21, 0, 0, 1, &png, &empty, err, sizeof err), GP_EINVAL);
    cr_assert_eq(render_tile(ctx, scene, RENDER_LAYER_DEFAULT, 3, 8, 0, 1, &png, &empty, err, sizeof err), GP_EINVAL);
    cr_assert_eq(render_tile(ctx, scene, 99, 3, 0, 0, 1, &png, &empty, err, sizeof err), GP_EINVAL);
    cr_assert_eq(render_tile(ctx, scene, RENDER_LAYER_DEFAULT, 3, 0, 0, 3, &png, &empty, err, sizeof err), GP_EINVAL);
    cr_assert_eq(png.len, 0);
    cr_assert_eq(render_layer_id("nope"), -1);
    cr_assert_eq(render_layer_id("police"), RENDER_LAYER_POLICE);
}

Test(render, spatial_index_returns_exactly_the_intersecting_features) {
    const render_layer_t *l = scene->layers[RENDER_SRC_COMMUNITIES];
    uint32_t *ids = NULL;
    size_t cap = 0;
    double a, b, c, d;
    tile_bounds(FX_Z, FX_TX + 6, FX_TY + 6, &a, &b, &c, &d);
    long n = render_layer_query(l, a, b, c, d, &ids, &cap);
    cr_assert_eq(n, 1);
    cr_assert_eq(l->features[ids[0]].fid, 4);
    n = render_layer_query(l, l->minx, l->miny, l->maxx, l->maxy, &ids, &cap);
    cr_assert_eq(n, 4);
    for (long i = 1; i < n; i++) cr_assert_lt(ids[i - 1], ids[i]);
    free(ids);
}

Test(render, png_palette_and_rgba_round_trip) {
    uint32_t img[64 * 64];
    for (int i = 0; i < 64 * 64; i++) img[i] = i < 2048 ? 0x80402010u : 0xff00ff00u;   /* 2 colours */
    buf_t png = {0};
    cr_assert_eq(render_png_encode(img, 64, 64, 64 * 4, 6, 0, &png), 0);
    unsigned char *rgba;
    int w, h;
    cr_assert_eq(render_png_decode(png.data, png.len, &rgba, &w, &h), 0);
    /* premultiplied 0x80 alpha, 0x40 red -> straight red 0x80 */
    cr_assert(rgba[0] == 0x80 && rgba[1] == 0x40 && rgba[2] == 0x20 && rgba[3] == 0x80);
    cr_assert(rgba[4 * 4095 + 1] == 0xff && rgba[4 * 4095 + 3] == 0xff);
    free(rgba);
    for (int i = 0; i < 64 * 64; i++) img[i] = 0xff000000u | (uint32_t)i;   /* 4096 colours: RGBA path */
    buf_reset(&png);
    cr_assert_eq(render_png_encode(img, 64, 64, 64 * 4, 6, 0, &png), 0);
    cr_assert_eq(render_png_decode(png.data, png.len, &rgba, &w, &h), 0);
    cr_assert(rgba[4 * 300 + 1] == (300 >> 8) && rgba[4 * 300 + 2] == (300 & 255));
    free(rgba);
    /* 300 colours with quantize: a palette PNG (colour type 3); the frequent colour stays exact */
    for (int i = 0; i < 64 * 64; i++) img[i] = i < 300 ? 0xff000000u | (uint32_t)(i * 3) : 0xff336699u;
    buf_reset(&png);
    cr_assert_eq(render_png_encode(img, 64, 64, 64 * 4, 6, 1, &png), 0);
    cr_assert_eq((unsigned char)png.data[25], 3, "palette colour type");
    cr_assert_eq(render_png_decode(png.data, png.len, &rgba, &w, &h), 0);
    cr_assert(rgba[4 * 4000] == 0x33 && rgba[4 * 4000 + 1] == 0x66 && rgba[4 * 4000 + 2] == 0x99);
    free(rgba);
    buf_free(&png);
}
