/* plan_report.c — what the planner shows: GeoJSON of parts and communities, the check table, police
 * allocation (table, JSON, CSV with BOM), auto-plan summaries, saved plans and plan comparison. */
#include "plan.h"
#include "err.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int plan_parts_geojson(GEOSContextHandle_t g, const plan_part_t *parts, size_t n, buf_t *out) {
    buf_puts(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    for (size_t i = 0; i < n; i++) {
        const plan_part_t *p = &parts[i];
        buf_printf(out, "%s{\"type\":\"Feature\",\"properties\":{\"code\":", i ? "," : "");
        buf_json_string(out, p->code);
        buf_printf(out, ",\"seq\":%d,\"households\":%ld,\"population\":%ld,\"buildings\":%d,\"area_m2\":", p->seq,
                   p->households, p->population, p->nbuildings);
        buf_double(out, p->area_m2, 1);
        buf_puts(out, ",\"perimeter_m\":");
        buf_double(out, p->perimeter_m, 1);
        buf_puts(out, ",\"polsby_popper\":");
        buf_double(out, p->polsby_popper, 4);
        buf_printf(out, ",\"contiguous\":%s,\"in_band\":%s},\"geometry\":", p->contiguous ? "true" : "false",
                   p->in_band ? "true" : "false");
        if (geo_to_geojson(g, p->geom, 7, out)) return GP_EGEOM;
        buf_puts(out, "}");
    }
    buf_puts(out, "]}");
    return 0;
}

/* Appends "code":…,"name":…,"street_code":… of a community (no braces): the identity every
 * community object in the reports starts with. */
static void community_identity_json(const plan_community_t *c, buf_t *out) {
    buf_puts(out, "\"code\":");
    buf_json_string(out, c->code);
    buf_puts(out, ",\"name\":");
    buf_json_string(out, c->name);
    buf_puts(out, ",\"street_code\":");
    buf_json_string(out, c->street_code);
}

int plan_city_geojson(GEOSContextHandle_t g, const plan_city_t *city, buf_t *out) {
    buf_puts(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    int first = 1;
    for (size_t i = 0; i < city->ncomms; i++) {
        const plan_community_t *c = &city->comms[i];
        if (!c->geom) continue;
        buf_printf(out, "%s{\"type\":\"Feature\",\"properties\":{", first ? "" : ",");
        first = 0;
        community_identity_json(c, out);
        buf_printf(out, ",\"households\":%ld,\"population\":%ld,\"locked\":%d},\"geometry\":", c->households,
                   c->population, c->locked);
        if (geo_to_geojson(g, c->geom, 7, out)) return GP_EGEOM;
        buf_puts(out, "}");
    }
    buf_puts(out, "]}");
    return 0;
}

void plan_check_json(const rules_t *r, const plan_city_t *city, buf_t *out) {
    rules_band_t band;
    rules_community_band(r, &band);
    buf_puts(out, "[");
    int first = 1;
    for (size_t i = 0; i < city->ncomms; i++) {
        const plan_community_t *c = &city->comms[i];
        if (!c->geom) continue;
        const char *action;
        const char *status = plan_status(&band, c->households, &action);
        plan_police_t p;
        plan_police(r, c->households, c->population, &p);
        buf_printf(out, "%s{", first ? "" : ",");
        first = 0;
        community_identity_json(c, out);
        buf_printf(out, ",\"households\":%ld,\"population\":%ld,\"status\":\"%s\",\"action\":", c->households, c->population,
                   status);
        if (action) buf_printf(out, "\"%s\"", action);
        else buf_puts(out, "null");
        buf_printf(out, ",\"locked\":%s,\"minjing\":%ld,\"fujing\":%ld,\"workers\":%ld}", c->locked ? "true" : "false",
                   p.minjing, p.fujing, p.workers);
    }
    buf_puts(out, "]");
}

void plan_check_table(const rules_t *r, const plan_city_t *city, buf_t *out) {
    rules_band_t band;
    rules_community_band(r, &band);
    int counts[4] = {0};
    buf_printf(out, "profile %s: band %ld–%ld households, split above %ld, merge below %ld\n", rules_name(r), band.min,
               band.max, band.split_above, band.merge_below);
    buf_printf(out, "%-13s %-10s %10s %10s %-7s %-6s %4s %4s %5s  %s\n", "code", "street", "households", "population",
               "status", "action", "民警", "辅警", "staff", "name");
    for (size_t i = 0; i < city->ncomms; i++) {
        const plan_community_t *c = &city->comms[i];
        if (!c->geom) continue;
        const char *action;
        const char *status = plan_status(&band, c->households, &action);
        counts[!strcmp(status, "under") ? 0 : !strcmp(status, "within") ? 1 : !strcmp(status, "over") ? 2 : 3]++;
        plan_police_t p;
        plan_police(r, c->households, c->population, &p);
        buf_printf(out, "%-13s %-10s %10ld %10ld %-7s %-6s %4ld %4ld %5ld  %s%s\n", c->code, c->street_code, c->households,
                   c->population, status, action ? action : "-", p.minjing, p.fujing, p.workers, c->name,
                   c->locked ? " (locked)" : "");
    }
    buf_printf(out, "%d under, %d within, %d over, %d to split\n", counts[0], counts[1], counts[2], counts[3]);
}

typedef struct { char street[16]; long communities, households, population, minjing, fujing, workers; } street_sum_t;

void plan_police_report(const rules_t *r, const plan_city_t *city, char format, buf_t *out) {
    street_sum_t *streets = calloc(city->ncomms + 1, sizeof *streets);
    size_t ns = 0;
    const char *rounding = "ceil";
    if (format == 'c') buf_puts(out, "\xEF\xBB\xBF" "level,code,name,street_code,households,population,minjing,fujing,workers,rounding\r\n");
    if (format == 'j') buf_printf(out, "{\"profile\":\"%s\",\"communities\":[", rules_name(r));
    if (format == 't')
        buf_printf(out, "%-13s %-10s %10s %4s %4s %5s  %s\n", "code", "street", "households", "民警", "辅警", "staff", "name");
    int first = 1;
    for (size_t i = 0; i < city->ncomms; i++) {
        const plan_community_t *c = &city->comms[i];
        if (!c->geom) continue;
        plan_police_t p;
        plan_police(r, c->households, c->population, &p);
        rounding = p.rounding;
        size_t s = 0;
        while (s < ns && strcmp(streets[s].street, c->street_code)) s++;
        if (s == ns && streets) snprintf(streets[ns++].street, sizeof streets[0].street, "%s", c->street_code);
        if (streets) {
            streets[s].communities++;
            streets[s].households += c->households;
            streets[s].population += c->population;
            streets[s].minjing += p.minjing;
            streets[s].fujing += p.fujing;
            streets[s].workers += p.workers;
        }
        if (format == 'j') {
            buf_printf(out, "%s{\"code\":\"%s\",\"name\":", first ? "" : ",", c->code);
            buf_json_string(out, c->name);
            buf_printf(out, ",\"street_code\":\"%s\",\"households\":%ld,\"population\":%ld,\"minjing\":%ld,\"fujing\":%ld,"
                            "\"workers\":%ld}", c->street_code, c->households, c->population, p.minjing, p.fujing, p.workers);
        } else if (format == 'c') {
            /* Names are quoted with doubled quotes, as RFC 4180 asks. */
            buf_printf(out, "community,%s,\"", c->code);
            for (const char *q = c->name; *q; q++) buf_printf(out, "%s", *q == '"' ? "\"\"" : (char[]){*q, 0});
            buf_printf(out, "\",%s,%ld,%ld,%ld,%ld,%ld,%s\r\n", c->street_code, c->households, c->population, p.minjing,
                       p.fujing, p.workers, p.rounding);
        } else {
            buf_printf(out, "%-13s %-10s %10ld %4ld %4ld %5ld  %s\n", c->code, c->street_code, c->households, p.minjing,
                       p.fujing, p.workers, c->name);
        }
        first = 0;
    }
    if (format == 'j') buf_puts(out, "],\"streets\":[");
    if (format == 't') buf_puts(out, "\nper street:\n");
    long tm = 0, tf = 0, tw = 0;
    for (size_t s = 0; s < ns; s++) {
        street_sum_t *t = &streets[s];
        tm += t->minjing;
        tf += t->fujing;
        tw += t->workers;
        if (format == 'j')
            buf_printf(out, "%s{\"street_code\":\"%s\",\"communities\":%ld,\"households\":%ld,\"population\":%ld,"
                            "\"minjing\":%ld,\"fujing\":%ld,\"workers\":%ld}", s ? "," : "", t->street, t->communities,
                       t->households, t->population, t->minjing, t->fujing, t->workers);
        else if (format == 'c')
            buf_printf(out, "street,%s,,%s,%ld,%ld,%ld,%ld,%ld,%s\r\n", t->street, t->street, t->households, t->population,
                       t->minjing, t->fujing, t->workers, rounding);
        else
            buf_printf(out, "%-10s %4ld communities %10ld households %5ld 民警 %5ld 辅警 %6ld staff\n", t->street,
                       t->communities, t->households, t->minjing, t->fujing, t->workers);
    }
    if (format == 'j')
        buf_printf(out, "],\"totals\":{\"minjing\":%ld,\"fujing\":%ld,\"workers\":%ld},\"rounding\":\"%s\","
                        "\"rule\":{\"min_minjing\":%g,\"fujing_base\":%g,\"fujing_base_households\":%g,"
                        "\"fujing_step_households\":%g}}",
                   tm, tf, tw, rounding, rules_num(r, "police.min_minjing", 1), rules_num(r, "police.fujing_base", 1),
                   rules_num(r, "police.fujing_base_households", 0), rules_num(r, "police.fujing_step_households", 0));
    if (format == 't')
        buf_printf(out, "total: %ld 民警, %ld 辅警, %ld community workers (profile %s, rounding %s)\n", tm, tf, tw,
                   rules_name(r), rounding);
    free(streets);
}

void plan_auto_json(const plan_auto_t *a, buf_t *out) {
    for (int pass = 0; pass < 2; pass++) {
        const char *op = pass ? "merge" : "split";
        buf_printf(out, "%s\"%ss\":[", pass ? "," : "{", op);
        int first = 1;
        for (size_t i = 0; i < a->nactions; i++) {
            const plan_action_t *x = &a->actions[i];
            if (strcmp(x->op, op)) continue;
            buf_printf(out, "%s{\"code\":\"%s\",\"households\":%ld,\"ok\":%s", first ? "" : ",", x->code, x->households,
                       x->ok ? "true" : "false");
            if (pass) {
                buf_puts(out, ",\"into\":");
                if (x->into[0]) buf_json_string(out, x->into);
                else buf_puts(out, "null");
            } else {
                buf_printf(out, ",\"parts\":%d,\"codes\":[", x->parts);
                const char *p = x->new_codes;
                for (int k = 0; *p; k++) {
                    const char *comma = strchr(p, ',');
                    size_t len = comma ? (size_t)(comma - p) : strlen(p);
                    buf_printf(out, "%s\"%.*s\"", k ? "," : "", (int)len, p);
                    p += len + (comma ? 1 : 0);
                }
                buf_puts(out, "],\"quality\":");
                plan_quality_json(&x->quality, out);
            }
            buf_puts(out, ",\"reason\":");
            buf_json_string(out, x->reason);
            buf_puts(out, "}");
            first = 0;
        }
        buf_puts(out, "]");
    }
    buf_puts(out, ",\"quality\":");
    plan_quality_json(&a->quality, out);
    buf_printf(out, ",\"communities\":%zu,\"seconds\":", a->city.ncomms);
    buf_double(out, a->seconds, 3);
    buf_puts(out, "}");
}

void plan_assignment_json(const plan_city_t *city, const char *profile, buf_t *out) {
    buf_puts(out, "{\"gridplan_plan\":1,\"profile\":");
    buf_json_string(out, profile ? profile : "");
    buf_puts(out, ",\"communities\":[");
    int first = 1;
    for (size_t i = 0; i < city->ncomms; i++) {
        const plan_community_t *c = &city->comms[i];
        if (!c->geom) continue;
        buf_printf(out, "%s{\"code\":\"%s\",\"name\":", first ? "" : ",", c->code);
        buf_json_string(out, c->name);
        buf_printf(out, ",\"street_code\":\"%s\",\"households\":%ld,\"population\":%ld}", c->street_code, c->households,
                   c->population);
        first = 0;
    }
    buf_puts(out, "],\"buildings\":[");
    for (size_t i = 0; i < city->nblds; i++) {
        const plan_building_t *b = &city->blds[i];
        const char *code = b->community >= 0 ? city->comms[b->community].code : "";
        buf_printf(out, "%s[%lld,\"%s\",%ld]", i ? "," : "", (long long)b->fid, code, b->households);
    }
    buf_puts(out, "]}\n");
}

typedef struct { int64_t fid; const char *code; long households; } assign_t;
typedef struct { const char *from, *to; long buildings, households; } move_t;

static int assign_cmp(const void *pa, const void *pb) {
    const assign_t *a = pa, *b = pb;
    return a->fid < b->fid ? -1 : a->fid > b->fid;
}
static int move_cmp(const void *pa, const void *pb) {
    const move_t *a = pa, *b = pb;
    int c = strcmp(a->from, b->from);
    return c ? c : strcmp(a->to, b->to);
}

static int read_assignment(json_t *root, const char *name, assign_t **out, size_t *n, char *err, size_t errlen) {
    json_t *arr = json_object_get(root, "buildings");
    if (!json_is_array(arr)) return err_set(err, errlen, GP_EINVAL, "%s: not a saved plan (no \"buildings\" array)", name);
    *n = json_array_size(arr);
    *out = calloc(*n + 1, sizeof **out);
    if (!*out) return err_set(err, errlen, GP_ENOMEM, "out of memory");
    for (size_t i = 0; i < *n; i++) {
        json_t *row = json_array_get(arr, i);
        if (!json_is_array(row) || json_array_size(row) < 3 || !json_is_integer(json_array_get(row, 0)) ||
            !json_is_string(json_array_get(row, 1))) {
            free(*out);
            return err_set(err, errlen, GP_EINVAL, "%s: buildings[%zu] is not [fid, code, households]", name, i);
        }
        (*out)[i] = (assign_t){json_integer_value(json_array_get(row, 0)), json_string_value(json_array_get(row, 1)),
                               (long)json_integer_value(json_array_get(row, 2))};
    }
    qsort(*out, *n, sizeof **out, assign_cmp);
    return 0;
}

int plan_diff(const char *a_json, const char *a_name, const char *b_json, const char *b_name, int json, buf_t *out,
              char *err, size_t errlen) {
    json_error_t je;
    json_t *ja = json_loads(a_json, 0, &je), *jb = NULL;
    assign_t *a = NULL, *b = NULL;
    move_t *moves = NULL;
    size_t na = 0, nb = 0, nm = 0;
    int rc = 0;
    if (!ja) { rc = err_set(err, errlen, GP_EINVAL, "%s: line %d: %s", a_name, je.line, je.text); goto end; }
    jb = json_loads(b_json, 0, &je);
    if (!jb) { rc = err_set(err, errlen, GP_EINVAL, "%s: line %d: %s", b_name, je.line, je.text); goto end; }
    if ((rc = read_assignment(ja, a_name, &a, &na, err, errlen)) || (rc = read_assignment(jb, b_name, &b, &nb, err, errlen)))
        goto end;
    moves = calloc(na + 1, sizeof *moves);
    if (!moves) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    long moved_b = 0, moved_h = 0, only_a = 0, only_b = 0;
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (j >= nb || (i < na && a[i].fid < b[j].fid)) { only_a++; i++; continue; }
        if (i >= na || b[j].fid < a[i].fid) { only_b++; j++; continue; }
        if (strcmp(a[i].code, b[j].code)) {
            moves[nm++] = (move_t){a[i].code, b[j].code, 1, b[j].households};
            moved_b++;
            moved_h += b[j].households;
        }
        i++;
        j++;
    }
    qsort(moves, nm, sizeof *moves, move_cmp);
    size_t m = 0;
    for (size_t k = 0; k < nm; k++) {
        if (m && !strcmp(moves[m - 1].from, moves[k].from) && !strcmp(moves[m - 1].to, moves[k].to)) {
            moves[m - 1].buildings++;
            moves[m - 1].households += moves[k].households;
        } else {
            moves[m++] = moves[k];
        }
    }
    if (json) {
        buf_puts(out, "{\"a\":");
        buf_json_string(out, a_name);
        buf_puts(out, ",\"b\":");
        buf_json_string(out, b_name);
        buf_printf(out, ",\"moved_buildings\":%ld,\"moved_households\":%ld,\"only_in_a\":%ld,\"only_in_b\":%ld,\"moves\":[",
                   moved_b, moved_h, only_a, only_b);
        for (size_t k = 0; k < m; k++)
            buf_printf(out, "%s{\"from\":\"%s\",\"to\":\"%s\",\"buildings\":%ld,\"households\":%ld}", k ? "," : "",
                       moves[k].from, moves[k].to, moves[k].buildings, moves[k].households);
        buf_puts(out, "]}\n");
    } else {
        buf_printf(out, "%s -> %s: %ld buildings (%ld households) change community", a_name, b_name, moved_b, moved_h);
        if (only_a || only_b) buf_printf(out, "; %ld buildings only in the first, %ld only in the second", only_a, only_b);
        buf_printf(out, "\n%-13s %-13s %9s %10s\n", "from", "to", "buildings", "households");
        for (size_t k = 0; k < m; k++)
            buf_printf(out, "%-13s %-13s %9ld %10ld\n", moves[k].from, moves[k].to, moves[k].buildings, moves[k].households);
    }
end:
    free(a);
    free(b);
    free(moves);
    json_decref(ja);
    json_decref(jb);
    return rc;
}

void plan_quality_text(const plan_quality_t *q, buf_t *out) {
    buf_printf(out, "quality: %d parts, target %ld (band %ld–%ld); household deviation max %.1f%% mean %.1f%%; "
                    "Polsby–Popper min %.3f mean %.3f\n",
               q->parts, q->target, q->band_min, q->band_max, 100 * q->max_dev, 100 * q->mean_dev, q->pp_min, q->pp_mean);
    buf_printf(out, "         contiguous %s, valid %s, %d outside the band (%d forced by one building); households %ld -> %ld; "
                    "exactness: symmetric difference %.2g, area sum %.2g (tolerance %.0e); %.3f s\n",
               q->contiguous ? "yes" : "NO", q->valid ? "yes" : "NO", q->outside_band, q->forced_by_building,
               q->households_in, q->households_out, q->symdiff_ratio, q->area_ratio, PLAN_EXACT_TOL, q->seconds);
}
