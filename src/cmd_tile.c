/* cmd_tile.c — `gridplan tile`: renders one tile of a layer to a PNG file (for looking and scripts). */
#include "cli.h"
#include "cache_serve.h"
#include "render.h"
#include "tile.h"
#include "store.h"
#include <stdio.h>
#include <stdlib.h>

int cmd_tile(int argc, char **argv) {
    const char *db = cli_default_db(), *layer_name = "default", *out_path = "tile.png";
    const char *style_path = render_style_default_path();
    int scale = 1, first;
    const cli_opt_t opts[] = {{"db", 's', &db, "database file"},
                              {"layer", 's', &layer_name, "communities|grids|buildings|facilities|circles|police|default"},
                              {"scale", 'i', &scale, "1 (256 px) or 2 (512 px, same extent)"},
                              {"style", 's', &style_path, "style file"},
                              {"out", 's', &out_path, "output PNG file"},
                              {0}};
    int pr = cli_parse("gridplan tile [options] Z X Y", "Renders one XYZ Web Mercator tile to a PNG file.", opts,
                       argc, argv, &first);
    if (pr) return pr > 0 ? 0 : 2;
    if (argc - first != 3) return cli_fail("tile needs Z X Y (got %d arguments)", argc - first), 2;
    char *end[3];
    long long z = strtoll(argv[first], &end[0], 10), x = strtoll(argv[first + 1], &end[1], 10);
    long long y = strtoll(argv[first + 2], &end[2], 10);
    if (*end[0] || *end[1] || *end[2] || !tile_valid((int)z, x, y))
        return cli_fail("tile %s/%s/%s is not a valid z/x/y (z 0-%d, x and y 0..2^z-1)", argv[first],
                        argv[first + 1], argv[first + 2], TILE_MAX_ZOOM), 2;
    int layer = render_layer_id(layer_name);
    if (layer < 0) return cli_fail("unknown layer '%s'", layer_name), 2;
    char err[512];
    cache_serve_t *cs = NULL;
    render_ctx_t *ctx = NULL;
    cache_tile_t *tile = NULL;
    int status = 1, hit;
    /* through cache_serve (memory only) so computed layers (service circles) are there too */
    if (cache_serve_open(db, style_path, NULL, 0, &cs, err, sizeof err)) { cli_fail("%s", err); goto end; }
    if (!(ctx = render_ctx_new())) { cli_fail("out of memory"); goto end; }
    if (cache_serve_tile(cs, ctx, layer, (int)z, (uint32_t)x, (uint32_t)y, scale, &tile, &hit, err, sizeof err)) {
        cli_fail("%s", err);
        goto end;
    }
    FILE *f = fopen(out_path, "wb");
    if (!f || fwrite(tile->data, 1, tile->len, f) != tile->len || fclose(f) != 0) {
        cli_fail("%s: cannot write the tile", out_path);
        goto end;
    }
    printf("%s: %zu bytes\n", out_path, tile->len);
    status = 0;
end:
    cache_tile_release(tile);
    render_ctx_free(ctx);
    cache_serve_close(cs);
    return status;
}
