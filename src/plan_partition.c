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

/* True when the units of part p other than `skip` are still connected (skip = -1: none skipped). */
static int part_connected(const plan_units_t *u, const int *part, int p, int skip, int *mark, int *stack, int stamp) {
    int start = -1, total = 0;
    for (size_t i = 0; i < u->n; i++)
        if (part[i] == p && (int)i != skip) {
            total++;
            if (start < 0) start = (int)i;
        }
    if (total == 0) return 0;
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
    return seen == total;
}

/* METIS 5.1 keeps its random generator in process-global state (GKlib), so two threads partitioning
 * at once draw from each other's sequence and results stop being reproducible: calls are serialised. */
static pthread_mutex_t metis_lock = PTHREAD_MUTEX_INITIALIZER;

/* METIS on the units with comp[i] == c, writing parts offset..offset+k-1. */
static int metis_component(const plan_units_t *u, const int *comp, int c, int k, int offset, int *part, char *err,
                           size_t errlen) {
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
        options[METIS_OPTION_SEED] = 1 + attempt;
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

static void repair(const plan_units_t *u, int k, const rules_band_t *band, int *part) {
    long *hh = calloc((size_t)k, sizeof *hh);
    int *mark = calloc(u->n, sizeof *mark), *stack = malloc(u->n * sizeof *stack);
    double *tolen = calloc((size_t)k, sizeof *tolen);
    move_t *moves = malloc(((size_t)u->xadj[u->n] + 1) * sizeof *moves);
    if (!hh || !mark || !stack || !tolen || !moves) goto end;
    for (size_t i = 0; i < u->n; i++) hh[part[i]] += u->households[i];
    int stamp = 0;
    for (int round = 0; round < 4 * (int)u->n + 16; round++) {
        size_t nm = 0;
        for (size_t i = 0; i < u->n; i++) {
            int from = part[i];
            long h = u->households[i];
            if (h == 0) continue;
            for (int e = u->xadj[i]; e < u->xadj[i + 1]; e++) tolen[part[u->adjncy[e]]] += u->adjlen[e];
            for (int e = u->xadj[i]; e < u->xadj[i + 1]; e++) {
                int to = part[u->adjncy[e]];
                if (to == from) continue;
                long gain = band_excess(band, hh[from]) + band_excess(band, hh[to]) - band_excess(band, hh[from] - h) -
                            band_excess(band, hh[to] + h);
                int dup = 0;
                for (size_t m = nm; m-- > 0 && moves[m].unit == (int)i;) dup |= moves[m].to == to;
                if (gain > 0 && !dup) moves[nm++] = (move_t){(int)i, to, gain, tolen[to] - tolen[from]};
            }
            for (int e = u->xadj[i]; e < u->xadj[i + 1]; e++) tolen[part[u->adjncy[e]]] = 0;
            tolen[from] = 0;
        }
        if (nm == 0) break;
        qsort(moves, nm, sizeof *moves, move_cmp);
        int moved = 0;
        for (size_t m = 0; m < nm && !moved; m++) {
            int i = moves[m].unit, from = part[i];
            if (!part_connected(u, part, from, i, mark, stack, ++stamp)) continue;
            part[i] = moves[m].to;
            hh[from] -= u->households[i];
            hh[moves[m].to] += u->households[i];
            moved = 1;
        }
        if (!moved) break;
    }
end:
    free(hh); free(mark); free(stack); free(tolen); free(moves);
}

int plan_partition(const plan_units_t *u, int k, const rules_band_t *band, int *part, char *err, size_t errlen) {
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
        if (share[c] > 0) rc = metis_component(u, comp, c, share[c], offset[c], part, err, errlen);
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
