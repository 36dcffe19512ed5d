/* plan_auto.c — whole-city auto-plan (split the big, merge the small, leave the locked) and
 * city-wide grid division, on an in-memory copy of the city. */
#include "plan.h"
#include "err.h"
#include "log.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

void plan_city_free(GEOSContextHandle_t g, plan_city_t *city) {
    if (!city) return;
    for (size_t i = 0; i < city->ncomms; i++) GEOSGeom_destroy_r(g, city->comms[i].geom);
    free(city->comms);
    free(city->blds);
    GEOSGeom_destroy_r(g, city->roads);
    memset(city, 0, sizeof *city);
}

void plan_auto_free(GEOSContextHandle_t g, plan_auto_t *a) {
    if (!a) return;
    plan_city_free(g, &a->city);
    free(a->actions);
    free(a);
}

/* Buildings of community c, copied; *idx maps back to city indexes. Caller frees both. */
static plan_building_t *buildings_of(const plan_city_t *city, int c, size_t *n, size_t **idx) {
    plan_building_t *out = malloc((city->nblds + 1) * sizeof *out);
    *idx = malloc((city->nblds + 1) * sizeof **idx);
    *n = 0;
    if (!out || !*idx) { free(out); free(*idx); *idx = NULL; return NULL; }
    for (size_t i = 0; i < city->nblds; i++)
        if (city->blds[i].community == c) { (*idx)[*n] = i; out[(*n)++] = city->blds[i]; }
    return out;
}

/* Accumulates part figures into a running summary (mean fields hold sums until finish). */
static void quality_add(plan_quality_t *sum, const plan_split_t *s) {
    for (int p = 0; p < s->k; p++) {
        const plan_part_t *pt = &s->parts[p];
        double dev = s->quality.target > 0 ? fabs((double)(pt->households - s->quality.target)) / s->quality.target : 0;
        if (dev > sum->max_dev) sum->max_dev = dev;
        sum->mean_dev += dev;
        if (sum->parts == 0 || pt->polsby_popper < sum->pp_min) sum->pp_min = pt->polsby_popper;
        sum->pp_mean += pt->polsby_popper;
        sum->parts++;
    }
    sum->contiguous &= s->quality.contiguous;
    sum->valid &= s->quality.valid;
    sum->outside_band += s->quality.outside_band;
    sum->forced_by_building += s->quality.forced_by_building;
    if (s->quality.symdiff_ratio > sum->symdiff_ratio) sum->symdiff_ratio = s->quality.symdiff_ratio;
    if (s->quality.area_ratio > sum->area_ratio) sum->area_ratio = s->quality.area_ratio;
    sum->households_in += s->quality.households_in;
    sum->households_out += s->quality.households_out;
    sum->target = s->quality.target;
    sum->band_min = s->quality.band_min;
    sum->band_max = s->quality.band_max;
}
static void quality_finish(plan_quality_t *q) {
    if (q->parts) { q->mean_dev /= q->parts; q->pp_mean /= q->parts; }
}

/* The next free community number under a street (prefix = 9-digit street code). */
static int next_code(const plan_city_t *city, const char *street9, char *out) {
    for (int n = 1; n <= 999; n++) {
        char code[24];
        snprintf(code, sizeof code, "%.9s%03d", street9, n % 1000);
        int used = 0;
        for (size_t i = 0; i < city->ncomms && !used; i++) used = !strcmp(city->comms[i].code, code);
        if (!used) { memcpy(out, code, 13); return 0; }
    }
    return GP_EINFEASIBLE;
}

static int grow_comms(plan_city_t *city, size_t extra) {
    plan_community_t *c = realloc(city->comms, (city->ncomms + extra) * sizeof *c);
    if (!c) return GP_ENOMEM;
    city->comms = c;
    return 0;
}

int plan_city_clone(GEOSContextHandle_t g, const plan_city_t *in, plan_city_t *out) {
    memset(out, 0, sizeof *out);
    out->comms = malloc((in->ncomms + 1) * sizeof *out->comms);
    out->blds = malloc((in->nblds + 1) * sizeof *out->blds);
    if (!out->comms || !out->blds) {
        free(out->comms);
        free(out->blds);
        memset(out, 0, sizeof *out);
        return GP_ENOMEM;
    }
    out->ncomms = in->ncomms;
    out->nblds = in->nblds;
    for (size_t i = 0; i < in->ncomms; i++) {
        out->comms[i] = in->comms[i];
        out->comms[i].geom = in->comms[i].geom ? GEOSGeom_clone_r(g, in->comms[i].geom) : NULL;
    }
    memcpy(out->blds, in->blds, in->nblds * sizeof *in->blds);
    out->roads = in->roads ? GEOSGeom_clone_r(g, in->roads) : NULL;
    return 0;
}

int plan_city_find(const plan_city_t *city, const char *code) {
    for (size_t i = 0; i < city->ncomms; i++)
        if (city->comms[i].geom && !strcmp(city->comms[i].code, code)) return (int)i;
    return -1;
}

int plan_city_split(plan_ctx_t *ctx, plan_city_t *city, int c, int k, const rules_band_t *band, plan_split_t **out,
                    char *new_codes, size_t codes_len, char *err, size_t errlen) {
    GEOSContextHandle_t g = ctx->g;
    plan_community_t *cm = &city->comms[c];
    *out = NULL;
    if (new_codes && codes_len) new_codes[0] = 0;
    if (cm->locked) return err_set(err, errlen, GP_ECONFLICT, "community %s is locked by the planner", cm->code);
    size_t nb, *idx;
    plan_building_t *b = buildings_of(city, c, &nb, &idx);
    if (!b) return err_set(err, errlen, GP_ENOMEM, "out of memory");
    plan_split_t *s = NULL;
    char why[400] = "";
    int rc = plan_split_buildings(ctx, cm->geom, b, nb, k, band, city->roads, &s, why, sizeof why);
    if (rc) {
        err_set(err, errlen, rc, "community %s: %s", cm->code, why);
        goto end;
    }
    if (!s->exact || !s->quality.valid) {
        rc = err_set(err, errlen, GP_EGEOM, "community %s: split failed verification: %.400s", cm->code, s->reason);
        goto end;
    }
    /* Reserve every new code before touching the city, so a full street changes nothing. */
    char street[16];   /* a copy: grow_comms may move the community array */
    snprintf(street, sizeof street, "%.9s", cm->street_code[0] ? cm->street_code : cm->code);
    char (*codes)[16] = calloc((size_t)s->k, sizeof *codes);
    if (!codes || grow_comms(city, (size_t)s->k)) { free(codes); rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    cm = &city->comms[c];
    snprintf(codes[0], sizeof codes[0], "%s", cm->code);
    size_t first_new = city->ncomms;
    for (int p = 1; p < s->k; p++) {
        plan_community_t nc = *cm;
        if (next_code(city, street, nc.code)) {
            city->ncomms = first_new;
            free(codes);
            rc = err_set(err, errlen, GP_EINFEASIBLE, "street %.9s has no free 3-digit community number left", street);
            goto end;
        }
        snprintf(nc.name, sizeof nc.name, "%.100s (%d)", cm->name, p + 1);
        nc.fid = 0;
        nc.geom = NULL;
        city->comms[city->ncomms++] = nc;
        snprintf(codes[p], sizeof codes[p], "%s", nc.code);
    }
    size_t used = 0;
    for (int p = 0; p < s->k; p++) {
        int target = p == 0 ? c : (int)(first_new + (size_t)p - 1);
        plan_community_t *t = &city->comms[target];
        GEOSGeom_destroy_r(g, t->geom);
        t->geom = GEOSGeom_clone_r(g, s->parts[p].geom);
        t->households = s->parts[p].households;
        t->population = s->parts[p].population;
        snprintf(s->parts[p].code, sizeof s->parts[p].code, "%s", t->code);
        if (new_codes && used < codes_len)
            used += (size_t)snprintf(new_codes + used, codes_len - used, "%s%s", p ? "," : "", t->code);
        for (size_t i = 0; i < nb; i++)
            if (s->building_part[i] == p) city->blds[idx[i]].community = target;
    }
    free(codes);
    *out = s;
    s = NULL;
end:
    plan_split_free(g, s);
    free(b);
    free(idx);
    return rc;
}

int plan_city_merge(plan_ctx_t *ctx, plan_city_t *city, int small, int into, const rules_band_t *band, plan_merge_t *m,
                    char *err, size_t errlen) {
    GEOSContextHandle_t g = ctx->g;
    int rc = plan_merge_choose(ctx, city->comms, city->ncomms, small, into, band, m, err, errlen);
    if (rc) return rc;
    plan_community_t *to = &city->comms[m->into], *from = &city->comms[small];
    GEOSGeom_destroy_r(g, to->geom);
    to->geom = GEOSGeom_clone_r(g, m->geom);
    to->households = m->households;
    to->population = m->population;
    GEOSGeom_destroy_r(g, from->geom);
    from->geom = NULL;   /* removed by plan_city_compact */
    for (size_t i = 0; i < city->nblds; i++)
        if (city->blds[i].community == small) city->blds[i].community = m->into;
    return 0;
}

int plan_city_compact(plan_city_t *city) {
    int *remap = malloc((city->ncomms + 1) * sizeof *remap);
    if (!remap) return GP_ENOMEM;
    size_t kept = 0;
    for (size_t c = 0; c < city->ncomms; c++) {
        remap[c] = city->comms[c].geom ? (int)kept : -1;
        if (city->comms[c].geom) city->comms[kept++] = city->comms[c];
    }
    for (size_t i = 0; i < city->nblds; i++)
        if (city->blds[i].community >= 0) city->blds[i].community = remap[city->blds[i].community];
    city->ncomms = kept;
    free(remap);
    return 0;
}

static plan_action_t *new_action(plan_auto_t *a, size_t *cap, const char *op, const plan_community_t *cm) {
    if (a->nactions == *cap) {
        plan_action_t *na = realloc(a->actions, (*cap *= 2) * sizeof *na);
        if (!na) return NULL;
        a->actions = na;
    }
    plan_action_t *act = &a->actions[a->nactions++];
    memset(act, 0, sizeof *act);
    snprintf(act->op, sizeof act->op, "%s", op);
    snprintf(act->code, sizeof act->code, "%s", cm->code);
    act->households = cm->households;
    return act;
}

int plan_auto_run(plan_ctx_t *ctx, const plan_city_t *in, const rules_t *r, plan_auto_t **out, char *err, size_t errlen) {
    GEOSContextHandle_t g = ctx->g;
    double t0 = log_now();
    rules_band_t band;
    rules_community_band(r, &band);
    int rc = 0;
    size_t cap = 16;
    int *order = NULL;
    plan_auto_t *a = calloc(1, sizeof *a);
    if (!a) return err_set(err, errlen, GP_ENOMEM, "out of memory");
    a->actions = malloc(cap * sizeof *a->actions);
    if (!a->actions || plan_city_clone(g, in, &a->city)) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    a->quality.contiguous = a->quality.valid = 1;

    size_t n0 = in->ncomms;
    for (size_t c = 0; c < n0; c++) {
        plan_community_t *cm = &a->city.comms[c];
        if (cm->locked || cm->households <= band.split_above || !cm->geom) continue;
        plan_action_t *act = new_action(a, &cap, "split", cm);
        if (!act) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
        plan_split_t *s;
        if (plan_city_split(ctx, &a->city, (int)c, 0, &band, &s, act->new_codes, sizeof act->new_codes, act->reason,
                            sizeof act->reason))
            continue;
        act->ok = 1;
        act->parts = s->k;
        act->quality = s->quality;
        snprintf(act->reason, sizeof act->reason, "%s", s->reason);
        quality_add(&a->quality, s);
        plan_split_free(g, s);
    }

    /* Merges, smallest first; a merged-away community keeps its slot (geom NULL) until compaction. */
    order = malloc((a->city.ncomms + 1) * sizeof *order);
    if (!order) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    size_t no = 0;
    for (size_t c = 0; c < a->city.ncomms; c++)
        if (!a->city.comms[c].locked && a->city.comms[c].geom && a->city.comms[c].households < band.merge_below)
            order[no++] = (int)c;
    for (size_t i = 1; i < no; i++)
        for (size_t j = i; j > 0 && a->city.comms[order[j]].households < a->city.comms[order[j - 1]].households; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t oi = 0; oi < no; oi++) {
        int c = order[oi];
        plan_community_t *cm = &a->city.comms[c];
        if (!cm->geom || cm->households >= band.merge_below) continue;   /* grew by an earlier merge */
        plan_action_t *act = new_action(a, &cap, "merge", cm);
        if (!act) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
        plan_merge_t m;
        if (plan_city_merge(ctx, &a->city, c, -1, &band, &m, act->reason, sizeof act->reason)) continue;
        act->ok = 1;
        snprintf(act->into, sizeof act->into, "%s", a->city.comms[m.into].code);
        snprintf(act->reason, sizeof act->reason, "shares %.0f m of boundary, %s street; %ld households together",
                 m.shared_m, m.same_street ? "same" : "another", m.households);
        GEOSGeom_destroy_r(g, m.geom);
    }
    if (plan_city_compact(&a->city)) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    quality_finish(&a->quality);
    a->seconds = log_now() - t0;
    a->quality.seconds = a->seconds;
    *out = a;
    a = NULL;
end:
    free(order);
    plan_auto_free(g, a);
    return rc;
}

void plan_gridset_free(GEOSContextHandle_t g, plan_gridset_t *gs) {
    if (!gs) return;
    for (size_t i = 0; i < gs->n; i++) GEOSGeom_destroy_r(g, gs->grids[i].geom);
    free(gs->grids);
    free(gs->grid_community);
    free(gs->building_grid);
    free(gs);
}

/* City-wide grids run communities in parallel: each is independent. A worker owns its GEOS context
 * and plan_ctx (PROJ transform), clones the community polygon before touching it (GEOS caches
 * envelopes lazily, so shared geometry is only ever read through clones), and reads the road layer
 * through bounds computed once up front. Results land in per-community slots and are stitched
 * together in community order, so the output does not depend on the thread count. */
typedef struct {
    const plan_city_t *city;
    const rules_band_t *band;
    int only;
    const size_t *bstart, *bidx;   /* CSR: buildings of community c are bidx[bstart[c] .. bstart[c+1]-1] */
    plan_split_t **res;
    char (*why)[256];
    const double *road_bounds;
    int nroads;
    size_t next;
    pthread_mutex_t mu;
} grid_job_t;

static void *grid_worker(void *arg) {
    grid_job_t *job = arg;
    GEOSContextHandle_t g = geo_ctx_new();
    plan_ctx_t ctx;
    plan_ctx_init(&ctx, g);
    ctx.roads_seen = job->city->roads;
    ctx.road_bounds = (double *)job->road_bounds;   /* borrowed: reset before release */
    ctx.nroads = job->nroads;
    plan_building_t *b = malloc((job->city->nblds + 1) * sizeof *b);
    for (;;) {
        pthread_mutex_lock(&job->mu);
        size_t c = job->next++;
        pthread_mutex_unlock(&job->mu);
        if (c >= job->city->ncomms) break;
        const plan_community_t *cm = &job->city->comms[c];
        if ((job->only >= 0 && (int)c != job->only) || !cm->geom) continue;
        size_t nb = job->bstart[c + 1] - job->bstart[c];
        if (nb == 0) continue;
        if (!b) { snprintf(job->why[c], sizeof job->why[c], "out of memory"); continue; }
        for (size_t i = 0; i < nb; i++) b[i] = job->city->blds[job->bidx[job->bstart[c] + i]];
        GEOSGeometry *area = GEOSGeom_clone_r(g, cm->geom);
        char why[512] = "";
        if (plan_grids(&ctx, area, b, nb, job->band, cm->code, job->city->roads, &job->res[c], why, sizeof why))
            snprintf(job->why[c], sizeof job->why[c], "%.250s", why[0] ? why : "grid division failed");
        GEOSGeom_destroy_r(g, area);
    }
    free(b);
    ctx.road_bounds = NULL;
    plan_ctx_release(&ctx);
    geo_ctx_free(g);
    return NULL;
}

static int grid_threads(void) {
    const char *env = getenv("GRIDPLAN_THREADS");
    int n = env && *env ? atoi(env) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 16 ? 16 : n;
}

int plan_grids_city(plan_ctx_t *ctx, const plan_city_t *city, const rules_band_t *grid_band, int only,
                    plan_gridset_t **out, char *err, size_t errlen) {
    GEOSContextHandle_t g = ctx->g;
    double t0 = log_now();
    int rc = 0;
    size_t cap = city->ncomms * 4 + 16;
    grid_job_t job = {.city = city, .band = grid_band, .only = only};
    size_t *bstart = calloc(city->ncomms + 2, sizeof *bstart), *bidx = malloc((city->nblds + 1) * sizeof *bidx);
    job.res = calloc(city->ncomms + 1, sizeof *job.res);
    job.why = calloc(city->ncomms + 1, sizeof *job.why);
    plan_gridset_t *gs = calloc(1, sizeof *gs);
    if (!gs || !bstart || !bidx || !job.res || !job.why) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    gs->grids = malloc(cap * sizeof *gs->grids);
    gs->grid_community = malloc(cap * sizeof *gs->grid_community);
    gs->building_grid = malloc((city->nblds + 1) * sizeof *gs->building_grid);
    if (!gs->grids || !gs->grid_community || !gs->building_grid) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    for (size_t i = 0; i < city->nblds; i++) {
        gs->building_grid[i] = -1;
        if (city->blds[i].community >= 0) bstart[city->blds[i].community + 1]++;
    }
    for (size_t c = 0; c < city->ncomms; c++) bstart[c + 1] += bstart[c];
    {
        size_t *fill = calloc(city->ncomms + 1, sizeof *fill);
        if (!fill) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
        for (size_t i = 0; i < city->nblds; i++) {
            int c = city->blds[i].community;
            if (c >= 0) bidx[bstart[c] + fill[c]++] = i;
        }
        free(fill);
    }
    job.bstart = bstart;
    job.bidx = bidx;
    if (city->roads && plan_ctx_roads(ctx, city->roads)) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    job.road_bounds = ctx->road_bounds;
    job.nroads = ctx->nroads;
    pthread_mutex_init(&job.mu, NULL);
    int nt = only >= 0 ? 1 : grid_threads();
    pthread_t th[16];
    int started = 0;
    for (int t = 0; t < nt; t++)
        if (pthread_create(&th[t], NULL, grid_worker, &job) == 0) started++;
    if (started == 0) grid_worker(&job);
    for (int t = 0; t < started; t++) pthread_join(th[t], NULL);
    pthread_mutex_destroy(&job.mu);

    gs->quality.contiguous = gs->quality.valid = 1;
    for (size_t c = 0; c < city->ncomms; c++) {
        const plan_community_t *cm = &city->comms[c];
        if ((only >= 0 && (int)c != only) || !cm->geom) continue;
        size_t nb = bstart[c + 1] - bstart[c];
        plan_split_t *s = job.res[c];
        job.res[c] = NULL;
        if (!s) {
            /* No buildings (or no division possible): the whole community is its one grid. */
            if (nb) {
                log_warn("community %s: grids: %s; kept as one grid", cm->code, job.why[c]);
                gs->failed++;
            }
            s = calloc(1, sizeof *s);
            if (!s || !(s->parts = calloc(1, sizeof *s->parts)) || !(s->building_part = calloc(nb + 1, sizeof *s->building_part))) {
                plan_split_free(g, s);
                rc = err_set(err, errlen, GP_ENOMEM, "out of memory");
                goto end;
            }
            s->k = 1;
            s->parts[0].geom = GEOSGeom_clone_r(g, cm->geom);
            s->parts[0].households = cm->households;
            s->parts[0].seq = 1;
            snprintf(s->parts[0].code, sizeof s->parts[0].code, "%.12s001", cm->code);
            s->parts[0].contiguous = GEOSGeomTypeId_r(g, cm->geom) == GEOS_POLYGON;
            s->parts[0].valid = 1;
        } else {
            if (!s->exact) log_warn("community %s: grids: %s", cm->code, s->reason);
            quality_add(&gs->quality, s);
        }
        if (gs->n + (size_t)s->k > cap) {
            cap = (gs->n + (size_t)s->k) * 2;
            plan_part_t *ng = realloc(gs->grids, cap * sizeof *ng);
            int *nc = ng ? realloc(gs->grid_community, cap * sizeof *nc) : NULL;
            if (ng) gs->grids = ng;
            if (nc) gs->grid_community = nc;
            if (!ng || !nc) { plan_split_free(g, s); rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
        }
        for (size_t i = 0; i < nb; i++) gs->building_grid[bidx[bstart[c] + i]] = (int)gs->n + s->building_part[i];
        for (int p = 0; p < s->k; p++) {
            gs->grids[gs->n] = s->parts[p];
            gs->grid_community[gs->n++] = (int)c;
            s->parts[p].geom = NULL;   /* moved */
        }
        plan_split_free(g, s);
    }
    quality_finish(&gs->quality);
    gs->seconds = log_now() - t0;
    gs->quality.seconds = gs->seconds;
    *out = gs;
    gs = NULL;
end:
    if (job.res)
        for (size_t c = 0; c < city->ncomms; c++) plan_split_free(g, job.res[c]);
    free(job.res);
    free(job.why);
    free(bstart);
    free(bidx);
    plan_gridset_free(g, gs);
    return rc;
}
