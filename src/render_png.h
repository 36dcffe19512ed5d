/* render_png.h — PNG encoding of premultiplied ARGB32 pixels with libpng into memory.
 *
 * Tiles with at most 256 distinct colours (flat fills, few edge shades) are written as palette PNG
 * with tRNS at the given zlib level; others as RGBA at zlib level 1, unfiltered: on flat map colours
 * that measured faster than any filtered setting and smaller than adaptive filtering. */
#ifndef GP_RENDER_PNG_H
#define GP_RENDER_PNG_H
#include "buf.h"
#include <stdint.h>

/* Appends the PNG of the w×h premultiplied ARGB32 image (stride in bytes) to out. level: zlib 0..9
 * for palette images (RGBA uses min(level, 1)). quantize: a tile with more than 256 colours (but
 * at most 8,192) still gets a palette of its 256 most frequent colours, rarer edge shades mapped to
 * the nearest (lossy only on antialiased edges). 0 or GP_ENOMEM/GP_EIO. */
int render_png_encode(const uint32_t *argb, int w, int h, int stride, int level, int quantize, buf_t *out);

/* Decodes a PNG (any colour type) into malloc'd non-premultiplied RGBA bytes, row-major, for tests
 * and tools; caller frees *rgba. 0 or GP_EINVAL. */
int render_png_decode(const void *png, size_t len, unsigned char **rgba, int *w, int *h);

#endif
