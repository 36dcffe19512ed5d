/* render_style.c — parses the JSON tile style with jansson; strict: a missing key is an error. */
#include "render_style.h"
#include "err.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct style_reader {
    const char *path;
    char *err;
    size_t errlen;
    int rc;
} style_reader_t;

static json_t *style_get(style_reader_t *rd, json_t *obj, const char *section, const char *key) {
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v && rd->rc == 0)
        rd->rc = err_set(rd->err, rd->errlen, GP_EINVAL, "%s: missing key %s.%s", rd->path, section, key);
    return v;
}

static double style_num(style_reader_t *rd, json_t *obj, const char *section, const char *key) {
    json_t *v = style_get(rd, obj, section, key);
    if (v && !json_is_number(v) && rd->rc == 0)
        rd->rc = err_set(rd->err, rd->errlen, GP_EINVAL, "%s: %s.%s is not a number", rd->path, section, key);
    return v ? json_number_value(v) : 0;
}

static int style_parse_colour(const char *s, render_rgba_t *c) {
    unsigned v[4] = {0, 0, 0, 255};
    size_t n = s ? strlen(s) : 0;
    if ((n != 7 && n != 9) || s[0] != '#') return -1;
    for (size_t i = 0; i < (n - 1) / 2; i++) {
        char hex[3] = {s[1 + 2 * i], s[2 + 2 * i], 0};
        char *end;
        v[i] = (unsigned)strtoul(hex, &end, 16);
        if (*end) return -1;
    }
    c->r = v[0] / 255.0;
    c->g = v[1] / 255.0;
    c->b = v[2] / 255.0;
    c->a = v[3] / 255.0;
    return 0;
}

static render_rgba_t style_colour(style_reader_t *rd, json_t *obj, const char *section, const char *key) {
    render_rgba_t c = {0, 0, 0, 0};
    json_t *v = style_get(rd, obj, section, key);
    if (v && style_parse_colour(json_string_value(v), &c) != 0 && rd->rc == 0)
        rd->rc = err_set(rd->err, rd->errlen, GP_EINVAL, "%s: %s.%s is not a #rrggbb[aa] colour", rd->path,
                         section, key);
    return c;
}

static int style_types(style_reader_t *rd, json_t *obj, const char *section, render_typed_colour_t *out) {
    json_t *types = style_get(rd, obj, section, "types");
    const char *key;
    json_t *v;
    int n = 0;
    json_object_foreach(types, key, v) {
        if (n == RENDER_MAX_TYPES || strlen(key) >= sizeof out[n].type) {
            if (rd->rc == 0)
                rd->rc = err_set(rd->err, rd->errlen, GP_EINVAL, "%s: %s.types: too many types or name too long",
                                 rd->path, section);
            break;
        }
        snprintf(out[n].type, sizeof out[n].type, "%s", key);
        out[n].colour = style_colour(rd, types, section, key);
        n++;
    }
    return n;
}

int render_style_load(const char *path, render_style_t *s, char *err, size_t errlen) {
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) return err_set(err, errlen, GP_EIO, "%s: %s (line %d)", path, jerr.text, jerr.line);
    style_reader_t rd = {path, err, errlen, 0};
    memset(s, 0, sizeof *s);

    json_t *aa = style_get(&rd, root, "", "antialias");
    if (aa && json_is_string(aa) && (!strcmp(json_string_value(aa), "fast") || !strcmp(json_string_value(aa), "good")))
        s->antialias_fast = !strcmp(json_string_value(aa), "fast");
    else if (aa && rd.rc == 0)
        rd.rc = err_set(err, errlen, GP_EINVAL, "%s: antialias must be \"fast\" or \"good\"", path);
    json_t *q = style_get(&rd, root, "", "png_quantize");
    if (q && !json_is_boolean(q) && rd.rc == 0)
        rd.rc = err_set(err, errlen, GP_EINVAL, "%s: png_quantize must be true or false", path);
    s->png_quantize = q && json_is_true(q);
    json_t *band = style_get(&rd, root, "", "band");
    s->band_min = (long)style_num(&rd, band, "band", "min");
    s->band_max = (long)style_num(&rd, band, "band", "max");
    s->split_above = (long)style_num(&rd, band, "band", "split_above");
    json_t *pp = style_get(&rd, root, "", "police_profile");
    snprintf(s->police_profile, sizeof s->police_profile, "%s", pp && json_is_string(pp) ? json_string_value(pp) : "");
    json_t *pr = style_get(&rd, root, "", "police_rule");
    s->police_base = (long)style_num(&rd, pr, "police_rule", "base");
    s->police_base_households = (long)style_num(&rd, pr, "police_rule", "base_households");
    s->police_step_households = (long)style_num(&rd, pr, "police_rule", "step_households");

    json_t *c = style_get(&rd, root, "", "communities");
    json_t *fill = style_get(&rd, c, "communities", "fill");
    static const char *const classes[4] = {"under", "within", "over", "split"};
    for (int i = 0; i < 4; i++) s->class_fill[i] = style_colour(&rd, fill, "communities.fill", classes[i]);
    s->community_outline = style_colour(&rd, c, "communities", "outline");
    s->community_outline_width = style_num(&rd, c, "communities", "outline_width");

    json_t *p = style_get(&rd, root, "", "police");
    s->police_first = (int)style_num(&rd, p, "police", "first");
    json_t *pc = style_get(&rd, p, "police", "colours");
    for (size_t i = 0; i < json_array_size(pc) && i < RENDER_MAX_POLICE_COLOURS; i++) {
        if (style_parse_colour(json_string_value(json_array_get(pc, i)), &s->police_colours[i]) != 0 && rd.rc == 0)
            rd.rc = err_set(err, errlen, GP_EINVAL, "%s: police.colours[%zu] is not a colour", path, i);
        s->police_ncolours++;
    }
    if (s->police_ncolours == 0 && rd.rc == 0)
        rd.rc = err_set(err, errlen, GP_EINVAL, "%s: police.colours is empty", path);

    json_t *g = style_get(&rd, root, "", "grids");
    s->grid_outline = style_colour(&rd, g, "grids", "outline");
    s->grid_outline_width = style_num(&rd, g, "grids", "outline_width");
    s->grid_min_zoom = (int)style_num(&rd, g, "grids", "min_zoom");
    s->grid_composite_min_zoom = (int)style_num(&rd, g, "grids", "composite_min_zoom");
    s->grid_code_min_zoom = (int)style_num(&rd, g, "grids", "code_min_zoom");
    s->grid_code_colour = style_colour(&rd, g, "grids", "code_colour");
    s->grid_code_size = style_num(&rd, g, "grids", "code_size");

    json_t *b = style_get(&rd, root, "", "buildings");
    s->building_fill = style_colour(&rd, b, "buildings", "fill");
    s->building_outline = style_colour(&rd, b, "buildings", "outline");
    s->building_outline_width = style_num(&rd, b, "buildings", "outline_width");
    s->building_point_radius = style_num(&rd, b, "buildings", "point_radius");
    s->building_min_zoom = (int)style_num(&rd, b, "buildings", "min_zoom");
    s->building_composite_min_zoom = (int)style_num(&rd, b, "buildings", "composite_min_zoom");

    json_t *f = style_get(&rd, root, "", "facilities");
    s->facility_radius = style_num(&rd, f, "facilities", "radius");
    s->facility_outline = style_colour(&rd, f, "facilities", "outline");
    s->facility_outline_width = style_num(&rd, f, "facilities", "outline_width");
    s->facility_min_zoom = (int)style_num(&rd, f, "facilities", "min_zoom");
    s->facility_default = style_colour(&rd, f, "facilities", "default");
    s->nfacility_types = style_types(&rd, f, "facilities", s->facility_types);

    json_t *ci = style_get(&rd, root, "", "circles");
    s->circle_outline_width = style_num(&rd, ci, "circles", "outline_width");
    s->circle_default = style_colour(&rd, ci, "circles", "default");
    s->ncircle_types = style_types(&rd, ci, "circles", s->circle_types);

    json_t *l = style_get(&rd, root, "", "labels");
    json_t *font = style_get(&rd, l, "labels", "font");
    snprintf(s->font_path, sizeof s->font_path, "%s", font && json_is_string(font) ? json_string_value(font) : "");
    s->label_size = style_num(&rd, l, "labels", "size");
    s->label_colour = style_colour(&rd, l, "labels", "colour");
    s->label_halo = style_colour(&rd, l, "labels", "halo");
    s->label_halo_width = style_num(&rd, l, "labels", "halo_width");
    s->label_min_zoom = (int)style_num(&rd, l, "labels", "min_zoom");
    s->label_padding = style_num(&rd, l, "labels", "padding");

    if (rd.rc == 0 && !(s->band_min <= s->band_max && s->band_max <= s->split_above))
        rd.rc = err_set(err, errlen, GP_EINVAL, "%s: band needs min <= max <= split_above", path);
    if (rd.rc == 0 && s->police_step_households <= 0)
        rd.rc = err_set(err, errlen, GP_EINVAL, "%s: police_rule.step_households must be positive", path);
    json_decref(root);
    return rd.rc;
}

const char *render_style_default_path(void) {
    const char *p = getenv("GRIDPLAN_STYLE");
    return p && *p ? p : "geodata/styles/default.json";
}

int render_style_class(const render_style_t *s, long households) {
    if (households < s->band_min) return RENDER_CLASS_UNDER;
    if (households <= s->band_max) return RENDER_CLASS_WITHIN;
    if (households <= s->split_above) return RENDER_CLASS_OVER;
    return RENDER_CLASS_SPLIT;
}

int render_style_aux_officers(const render_style_t *s, long households) {
    if (households <= s->police_base_households) return (int)s->police_base;
    long extra = households - s->police_base_households;
    return (int)(s->police_base + (extra + s->police_step_households - 1) / s->police_step_households);
}

const render_rgba_t *render_style_type_colour(const render_typed_colour_t *types, int ntypes,
                                              const render_rgba_t *fallback, const char *type) {
    for (int i = 0; type && i < ntypes; i++)
        if (!strcmp(types[i].type, type)) return &types[i].colour;
    return fallback;
}
