/* render_png.h — PNG encoding of premultiplied ARGB32 pixels with libpng into memory.
 *
 * Tiles with at most 256 distinct colours (most map tiles: flat fills, a few edge shades) are
 * written as 8-bit palette PNG with tRNS, others as RGBA; both unfiltered, which measured smaller
 * and faster than adaptive filtering on flat map colours. */
#ifndef GP_RENDER_PNG_H
#define GP_RENDER_PNG_H
#include "buf.h"
#include <stdint.h>

/* Appends the PNG of the w×h image (stride in bytes) to out. level: zlib 0..9. 0 or GP_ENOMEM/GP_EIO. */
int render_png_encode(const uint32_t *argb, int w, int h, int stride, int level, buf_t *out);

/* Decodes a PNG (any colour type) into malloc'd non-premultiplied RGBA bytes, row-major, for tests
 * and tools; caller frees *rgba. 0 or GP_EINVAL. */
int render_png_decode(const void *png, size_t len, unsigned char **rgba, int *w, int *h);

#endif
