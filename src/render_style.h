/* render_style.h — the tile style: colours, widths, zoom thresholds and class rules, read from a
 * JSON data file (geodata/styles/default.json) so restyling never touches code. */
#ifndef GP_RENDER_STYLE_H
#define GP_RENDER_STYLE_H
#include <stddef.h>

typedef struct render_rgba { double r, g, b, a; } render_rgba_t;

#define RENDER_MAX_TYPES 16
#define RENDER_MAX_POLICE_COLOURS 8

typedef struct render_typed_colour {
    char type[32];
    render_rgba_t colour;
} render_typed_colour_t;

/* Community load classes against the household band. */
enum { RENDER_CLASS_UNDER = 0, RENDER_CLASS_WITHIN = 1, RENDER_CLASS_OVER = 2, RENDER_CLASS_SPLIT = 3 };

typedef struct render_style {
    int png_quantize;        /* 1: palette PNG of the 256 most frequent colours when a tile has more */
    int antialias_fast;      /* 1: Cairo FAST (4x4 coverage) for fills and strokes, 0: GOOD */
    long band_min, band_max, split_above;
    long police_base, police_base_households, police_step_households;
    char police_profile[64];  /* rule profile whose police rule colours the police layer ("": the database's) */
    render_rgba_t class_fill[4];
    render_rgba_t community_outline;
    double community_outline_width;
    int police_first, police_ncolours;
    render_rgba_t police_colours[RENDER_MAX_POLICE_COLOURS];
    render_rgba_t grid_outline, grid_code_colour;
    double grid_outline_width, grid_code_size;
    int grid_min_zoom, grid_composite_min_zoom, grid_code_min_zoom;
    render_rgba_t building_fill, building_outline;
    double building_outline_width, building_point_radius;
    int building_min_zoom, building_composite_min_zoom;
    double facility_radius, facility_outline_width;
    render_rgba_t facility_outline, facility_default;
    int facility_min_zoom, nfacility_types;
    render_typed_colour_t facility_types[RENDER_MAX_TYPES];
    double circle_outline_width;
    render_rgba_t circle_default;
    int ncircle_types;
    render_typed_colour_t circle_types[RENDER_MAX_TYPES];
    char font_path[512];
    double label_size, label_halo_width, label_padding;
    render_rgba_t label_colour, label_halo;
    int label_min_zoom;
} render_style_t;

/* Loads a style file. Every key is required, so a typo is an error naming the key, not a silent
 * default. Returns 0, or GP_EIO / GP_EINVAL with err naming the file and key. */
int render_style_load(const char *path, render_style_t *style, char *err, size_t errlen);

/* The style file used when none is given: $GRIDPLAN_STYLE or geodata/styles/default.json. */
const char *render_style_default_path(void);

/* Load class of a community with this many households (RENDER_CLASS_*). */
int render_style_class(const render_style_t *style, long households);
/* 辅警 for a community by the style's police rule. */
int render_style_aux_officers(const render_style_t *style, long households);
/* Colour for a facility / circle type (the default colour for an unknown type). */
const render_rgba_t *render_style_type_colour(const render_typed_colour_t *types, int ntypes,
                                              const render_rgba_t *fallback, const char *type);

#endif
