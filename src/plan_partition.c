/* plan_partition.c — balanced, contiguous k-way partition of a unit graph: METIS, then repair.
 *
 * METIS_PartGraphKway with METIS_OPTION_CONTIG needs a connected graph, so each connected component
 * is partitioned on its own with a share of the k parts proportional to its households (largest
 * remainder); a component whose share rounds to zero (an exclave, a sliver) joins the part of its
 * nearest unit, which is the only place its households can go. METIS balances vertex weights to
 * within UFACTOR; the band is a harder, asymmetric constraint, so a local search then moves boundary
 * units between adjacent parts, never disconnecting the donor, until every part is inside the band
 * or no move helps. Graphs are small (hundreds to a few thousand units per community). */
#include "plan.h"
#include "err.h"
#include <assert.h>
#include <math.h>
#include <metis.h>
#include <pthread.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define ROAD_EDGE_FACTOR 0.25  /* cutting along a road costs a quarter of cutting between buildings */

static int components(const plan_units_t *u, int *comp) {
    int nc = 0;
    int *stack = malloc((u->n + 1) * sizeof *stack);
    if (!stack) return -1;
    for (size_t i = 0; i < u->n; i++) comp[i] = -1;
    for (size_t s = 0; s < u->n; s++) {
        if (comp[s] >= 0) continue;
        int top = 0;
        stack[top++] = (int)s;
        comp[s] = nc;
        while (top) {
            int v = stack[--top];
            for (int e = u->xadj[v]; e < u->xadj[v + 1]; e++)
                if (comp[u->adjncy[e]] < 0) {
                    comp[u->adjncy[e]] = nc;
                    stack[top++] = u->adjncy[e];
                }
        }
        nc++;
    }
    free(stack);
    return nc;
}

/* Marks (with stamp) every unit of part p reachable from start without passing through `skip`;
 * returns how many it marked. */
static int part_flood(const plan_units_t *u, const int *part, int p, int skip, int start, int *mark, int *stack,
                      int stamp) {
    int top = 0, seen = 1;
    stack[top++] = start;
    mark[start] = stamp;
    while (top) {
        int v = stack[--top];
        for (int e = u->xadj[v]; e < u->xadj[v + 1]; e++) {
            int w = u->adjncy[e];
            if (w == skip || part[w] != p || mark[w] == stamp) continue;
            mark[w] = stamp;
            stack[top++] = w;
            seen++;
        }
    }
    return seen;
}

/* True when the units of part p other than `skip` are still connected (skip = -1: none skipped). */
static int part_connected(const plan_units_t *u, const int *part, int p, int skip, int *mark, int *stack, int stamp) {
    int start = -1, total = 0;
    for (size_t i = 0; i < u->n; i++)
        if (part[i] == p && (int)i != skip) {
            total++;
            if (start < 0) start = (int)i;
        }
    if (total == 0) return 0;
    return part_flood(u, part, p, skip, start, mark, stack, stamp) == total;
}

/* METIS 5.1 keeps its random generator in process-global state (GKlib), so two threads partitioning
 * at once draw from each other's sequence and results stop being reproducible: calls are serialised. */
static pthread_mutex_t metis_lock = PTHREAD_MUTEX_INITIALIZER;

/* METIS on the units with comp[i] == c, writing parts offset..offset+k-1. */
static int metis_component(const plan_units_t *u, const int *comp, int c, int k, int offset, int seed, int *part,
                           char *err, size_t errlen) {
    size_t n = u->n;
    int *local = malloc(n * sizeof *local), *global = malloc(n * sizeof *global);
    idx_t *xadj = malloc((n + 1) * sizeof *xadj), *adj = malloc(((size_t)u->xadj[n] + 1) * sizeof *adj);
    idx_t *adjw = malloc(((size_t)u->xadj[n] + 1) * sizeof *adjw), *vw = malloc(n * sizeof *vw);
    idx_t *where = malloc(n * sizeof *where);
    int rc = 0;
    if (!local || !global || !xadj || !adj || !adjw || !vw || !where) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    idx_t nv = 0, ne = 0;
    for (size_t i = 0; i < n; i++) {
        local[i] = -1;
        if (comp[i] == c) { local[i] = nv; global[nv++] = (int)i; }
    }
    xadj[0] = 0;
    for (idx_t v = 0; v < nv; v++) {
        int i = global[v];
        vw[v] = (idx_t)(100 * u->households[i] + 1);
        for (int e = u->xadj[i]; e < u->xadj[i + 1]; e++) {
            double w = (u->adjlen[e] - u->adjroad[e]) + ROAD_EDGE_FACTOR * u->adjroad[e];
            adj[ne] = local[u->adjncy[e]];
            adjw[ne] = (idx_t)(w < 1 ? 1 : w + 0.5);
            ne++;
        }
        xadj[v + 1] = ne;
    }
    if (k == 1 || nv <= 1) {
        for (idx_t v = 0; v < nv; v++) part[global[v]] = offset;
        goto end;
    }
    idx_t ncon = 1, nparts = k, objval;
    idx_t options[METIS_NOPTIONS];
    for (int attempt = 0; attempt < 6; attempt++) {
        METIS_SetDefaultOptions(options);
        options[METIS_OPTION_CONTIG] = 1;
        options[METIS_OPTION_NUMBERING] = 0;
        options[METIS_OPTION_UFACTOR] = 10;
        options[METIS_OPTION_SEED] = seed + 7 * attempt;
        pthread_mutex_lock(&metis_lock);
        int mrc = METIS_PartGraphKway(&nv, &ncon, xadj, adj, vw, NULL, adjw, &nparts, NULL, NULL, options, &objval, where);
        pthread_mutex_unlock(&metis_lock);
        if (mrc != METIS_OK) { rc = err_set(err, errlen, GP_EGEOM, "METIS failed (code %d) on %d units, %d parts", mrc, (int)nv, k); goto end; }
        /* METIS may leave a part empty on tiny or very uneven graphs; try other seeds first. */
        int *count = calloc((size_t)k, sizeof *count), empty = 0;
        if (!count) { rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
        for (idx_t v = 0; v < nv; v++) count[where[v]]++;
        for (int p = 0; p < k; p++) empty += !count[p];
        free(count);
        if (!empty || attempt == 5) break;
    }
    for (idx_t v = 0; v < nv; v++) part[global[v]] = offset + (int)where[v];
    /* Still empty: seed each empty part with one unit taken from the part with most units, choosing
     * a unit whose removal keeps that part connected; the band repair then grows it. */
    for (int e = offset; e < offset + k; e++) {
        int size_e = 0, donor = -1, donor_size = 0;
        int *size = calloc((size_t)(offset + k), sizeof *size);
        int *mark = calloc(n, sizeof *mark), *stack = malloc(n * sizeof *stack);
        if (!size || !mark || !stack) { free(size); free(mark); free(stack); rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
        for (idx_t v = 0; v < nv; v++) size[part[global[v]]]++;
        size_e = size[e];
        for (int p = offset; p < offset + k; p++)
            if (size[p] > donor_size) { donor_size = size[p]; donor = p; }
        int stamp = 0, moved = size_e > 0;
        for (idx_t v = 0; v < nv && !moved && donor_size > 1; v++) {
            int i = global[v];
            if (part[i] != donor || !part_connected(u, part, donor, i, mark, stack, ++stamp)) continue;
            part[i] = e;
            moved = 1;
        }
        free(size); free(mark); free(stack);
        if (!moved) { rc = err_set(err, errlen, GP_EGEOM, "could not fill part %d of %d from %d units", e - offset + 1, k, (int)nv); goto end; }
    }
end:
    free(local); free(global); free(xadj); free(adj); free(adjw); free(vw); free(where);
    return rc;
}

/* When moving unit `skip` out of part p would cut p, but what is cut off holds no households (faces a
 * concave boundary separated from their building, reachable only through `skip`), those faces can go
 * along with it: they stay connected through `skip` in the new part. Moves them to part `to` and
 * returns 1, or returns 0 (nothing changed) when a cut-off piece holds households. */
static int carry_orphans(const plan_units_t *u, int *part, int p, int skip, int to, int *mark, int *stack, int stamp) {
    int start = -1;
    for (size_t i = 0; i < u->n && start < 0; i++)
        if (part[i] == p && (int)i != skip && u->households[i] > 0) start = (int)i;
    if (start < 0) return 0;
    part_flood(u, part, p, skip, start, mark, stack, stamp);
    for (size_t i = 0; i < u->n; i++)
        if (part[i] == p && (int)i != skip && mark[i] != stamp && u->households[i] > 0) return 0;
    for (size_t i = 0; i < u->n; i++)
        if (part[i] == p && (int)i != skip && mark[i] != stamp) part[i] = to;
    return 1;
}

static long band_excess(const rules_band_t *b, long h) { return h > b->max ? h - b->max : h < b->min ? b->min - h : 0; }

/* Moves single boundary units between adjacent parts while that lowers the total band excess: the
 * candidate moves of a round are ranked by gain, then by how much boundary the unit shares with its
 * new part minus its old one (compactness), and the first that keeps the donor connected is made. */
typedef struct { int unit, to; long gain; double len; } move_t;
static int move_cmp(const void *pa, const void *pb) {
    const move_t *a = pa, *b = pb;
    if (a->gain != b->gain) return a->gain > b->gain ? -1 : 1;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    return a->unit != b->unit ? a->unit - b->unit : a->to - b->to;
}

typedef struct {
    long *hh;                /* households per part, kept up to date by every move */
    int *mark, *stack, stamp;
    double *tolen;
    move_t *moves;
} repair_ws_t;

static int ws_init(repair_ws_t *w, const plan_units_t *u, int k, const int *part) {
    memset(w, 0, sizeof *w);
    w->hh = calloc((size_t)k, sizeof *w->hh);
    w->mark = calloc(u->n, sizeof *w->mark);
    w->stack = malloc(u->n * sizeof *w->stack);
    w->tolen = calloc((size_t)k, sizeof *w->tolen);
    w->moves = malloc(((size_t)u->xadj[u->n] + 1) * sizeof *w->moves);
    if (!w->hh || !w->mark || !w->stack || !w->tolen || !w->moves) return -1;
    for (size_t i = 0; i < u->n; i++) w->hh[part[i]] += u->households[i];
    return 0;
}
static void ws_free(repair_ws_t *w) { free(w->hh); free(w->mark); free(w->stack); free(w->tolen); free(w->moves); }

static long move_gain(const rules_band_t *band, const long *hh, int from, int to, long h) {
    return band_excess(band, hh[from]) + band_excess(band, hh[to]) - band_excess(band, hh[from] - h) -
           band_excess(band, hh[to] + h);
}

/* Moves unit i to part `to` unless that would disconnect its part (zero-household faces cut off with
 * it go along, see carry_orphans). Returns 1 when moved. */
static int try_move(const plan_units_t *u, int *part, repair_ws_t *w, int i, int to) {
    int from = part[i];
    if (!part_connected(u, part, from, i, w->mark, w->stack, ++w->stamp) &&
        !carry_orphans(u, part, from, i, to, w->mark, w->stack, ++w->stamp))
        return 0;
    part[i] = to;
    w->hh[from] -= u->households[i];
    w->hh[to] += u->households[i];
    return 1;
}

/* Makes the best-ranked single move whose gain is at least min_gain; returns its gain, or 0 (nothing
 * moved) when none keeps its donor connected. */
static long move_once(const plan_units_t *u, const rules_band_t *band, int *part, repair_ws_t *w, long min_gain) {
    size_t nm = 0;
    for (size_t i = 0; i < u->n; i++) {
        int from = part[i];
        long h = u->households[i];
        if (h == 0) continue;
        for (int e = u->xadj[i]; e < u->xadj[i + 1]; e++) w->tolen[part[u->adjncy[e]]] += u->adjlen[e];
        for (int e = u->xadj[i]; e < u->xadj[i + 1]; e++) {
            int to = part[u->adjncy[e]];
            if (to == from) continue;
            long gain = move_gain(band, w->hh, from, to, h);
            int dup = 0;
            for (size_t m = nm; m-- > 0 && w->moves[m].unit == (int)i;) dup |= w->moves[m].to == to;
            if (gain >= min_gain && !dup) w->moves[nm++] = (move_t){(int)i, to, gain, w->tolen[to] - w->tolen[from]};
        }
        for (int e = u->xadj[i]; e < u->xadj[i + 1]; e++) w->tolen[part[u->adjncy[e]]] = 0;
        w->tolen[from] = 0;
    }
    qsort(w->moves, nm, sizeof *w->moves, move_cmp);
    for (size_t m = 0; m < nm; m++)
        if (try_move(u, part, w, w->moves[m].unit, w->moves[m].to)) return w->moves[m].gain;
    return 0;
}

static void repair(const plan_units_t *u, int k, const rules_band_t *band, int *part) {
    repair_ws_t w;
    if (ws_init(&w, u, k, part) == 0)
        for (int round = 0; round < 4 * (int)u->n + 16; round++)
            if (!move_once(u, band, part, &w, 1)) break;
    ws_free(&w);
}

/* When no single move helps, a chain of two often does: a part outside the band takes or gives a unit
 * although that pushes its neighbour out of the band (gain <= 0), and the neighbour then passes a
 * unit on to a third part, with a net gain. Tries every first move across the boundary of every part
 * outside the band (the state is restored when no second move pays for it); returns 1 when a chain
 * lowered the total excess. */
static int chain_move(const plan_units_t *u, int k, const rules_band_t *band, int *part, int *saved, repair_ws_t *w) {
    for (int p = 0; p < k; p++) {
        if (!band_excess(band, w->hh[p])) continue;
        for (size_t i = 0; i < u->n; i++) {
            long h = u->households[i];
            if (h == 0) continue;
            for (int e = u->xadj[i]; e < u->xadj[i + 1]; e++) {
                int from = part[i], to = part[u->adjncy[e]];
                if (to == from || (from != p && to != p)) continue;
                int dup = 0;
                for (int f = u->xadj[i]; f < e; f++) dup |= part[u->adjncy[f]] == to;
                long g1 = move_gain(band, w->hh, from, to, h);
                if (dup || g1 > 0) continue;
                memcpy(saved, part, u->n * sizeof *part);
                if (!try_move(u, part, w, (int)i, to)) continue;
                if (move_once(u, band, part, w, 1 - g1)) return 1;
                memcpy(part, saved, u->n * sizeof *part);
                memset(w->hh, 0, (size_t)k * sizeof *w->hh);
                for (size_t j = 0; j < u->n; j++) w->hh[part[j]] += u->households[j];
            }
        }
    }
    return 0;
}

/* Chains, each followed by the single-move search, while they keep lowering the excess. */
static void chain_repair(const plan_units_t *u, int k, const rules_band_t *band, int *part) {
    repair_ws_t w;
    int *saved = malloc(u->n * sizeof *saved);
    if (saved && ws_init(&w, u, k, part) == 0)
        for (int round = 0; round < 2 * k + 4 && chain_move(u, k, band, part, saved, &w); round++)
            while (move_once(u, band, part, &w, 1)) {}
    if (saved) ws_free(&w);
    free(saved);
}

static int partition_once(const plan_units_t *u, int k, const rules_band_t *band, int seed, int *part, char *err,
                          size_t errlen) {
    if (k < 1) return err_set(err, errlen, GP_EINVAL, "parts must be at least 1 (got %d)", k);
    if ((size_t)k > u->n) return err_set(err, errlen, GP_EINFEASIBLE, "%d parts asked of only %zu units", k, u->n);
    int *comp = malloc(u->n * sizeof *comp);
    long *chh = NULL;
    int *share = NULL, *offset = NULL, *csize = NULL;
    int rc = 0;
    if (!comp) return err_set(err, errlen, GP_ENOMEM, "out of memory");
    int nc = components(u, comp);
    if (nc < 1) { free(comp); return err_set(err, errlen, GP_ENOMEM, "out of memory"); }
    chh = calloc((size_t)nc, sizeof *chh);
    share = calloc((size_t)nc, sizeof *share);
    offset = calloc((size_t)nc, sizeof *offset);
    csize = calloc((size_t)nc, sizeof *csize);
    double *rem = calloc((size_t)nc, sizeof *rem);
    if (!chh || !share || !offset || !csize || !rem) { free(rem); rc = err_set(err, errlen, GP_ENOMEM, "out of memory"); goto end; }
    long total = 0;
    for (size_t i = 0; i < u->n; i++) {
        chh[comp[i]] += u->households[i] + 1;   /* +1: components without households still count */
        csize[comp[i]]++;
        total += u->households[i] + 1;
    }
    int given = 0;
    for (int c = 0; c < nc; c++) {
        double ideal = (double)k * (double)chh[c] / (double)total;
        share[c] = (int)floor(ideal);
        if (share[c] > csize[c]) share[c] = csize[c];
        rem[c] = ideal - share[c];
        given += share[c];
    }
    while (given < k) {
        int best = -1;
        for (int c = 0; c < nc; c++)
            if (share[c] < csize[c] && (best < 0 || rem[c] > rem[best])) best = c;
        if (best < 0) break;
        share[best]++;
        rem[best] -= 1.0;
        given++;
    }
    free(rem);
    int next = 0;
    for (int c = 0; c < nc; c++) {
        offset[c] = next;
        next += share[c];
    }
    assert(next == k);
    for (int c = 0; c < nc && !rc; c++)
        if (share[c] > 0) rc = metis_component(u, comp, c, share[c], offset[c], seed, part, err, errlen);
    if (rc) goto end;
    /* Components without a part: each unit takes the part of the nearest unit that has one. */
    for (size_t i = 0; i < u->n; i++) {
        if (share[comp[i]] > 0) continue;
        double best = INFINITY;
        int to = 0;
        for (size_t j = 0; j < u->n; j++) {
            if (share[comp[j]] == 0) continue;
            double k2 = cos(u->y[i] * M_PI / 180), dx = (u->x[i] - u->x[j]) * k2, dy = u->y[i] - u->y[j];
            if (dx * dx + dy * dy < best) { best = dx * dx + dy * dy; to = part[j]; }
        }
        part[i] = to;
    }
    if (k > 1) repair(u, k, band, part);
end:
    free(comp); free(chh); free(share); free(offset); free(csize);
    return rc;
}

/* Total households outside the band over the parts of an assignment. */
static long total_excess(const plan_units_t *u, int k, const rules_band_t *band, const int *part) {
    long *hh = calloc((size_t)k, sizeof *hh), sum = 0;
    if (!hh) return LONG_MAX;
    for (size_t i = 0; i < u->n; i++) hh[part[i]] += u->households[i];
    for (int p = 0; p < k; p++) sum += band_excess(band, hh[p]);
    free(hh);
    return sum;
}

/* A single local search sometimes stalls with a part just outside the band (a move that would fix
 * it breaks a neighbour); another METIS seed starts from a different layout. Up to four more seeds
 * are tried while parts stay outside the band, and the best assignment is kept. */
int plan_partition(const plan_units_t *u, int k, const rules_band_t *band, int *part, char *err, size_t errlen) {
    int rc = partition_once(u, k, band, 1, part, err, errlen);
    if (rc || k == 1) return rc;
    long best = total_excess(u, k, band, part);
    int *trial = best > 0 ? malloc(u->n * sizeof *trial) : NULL;
    for (int seed = 2; seed <= 5 && best > 0 && trial; seed++) {
        if (partition_once(u, k, band, seed, trial, NULL, 0)) continue;
        long excess = total_excess(u, k, band, trial);
        if (excess < best) {
            best = excess;
            memcpy(part, trial, u->n * sizeof *part);
        }
    }
    free(trial);
    if (best > 0) chain_repair(u, k, band, part);
    return 0;
}
