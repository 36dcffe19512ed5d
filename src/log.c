/* log.c — leveled logging and progress bars. */
#include "log.h"
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int log_level = LOG_INFO;

void log_set_level(int level) { log_level = level; }
int log_get_level(void) { return log_level; }

void log_msg(int level, const char *fmt, ...) {
    if (level < log_level) return;
    static const char *names[] = {"debug", "info", "warning", "error"};
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line so lines from several threads do not interleave. */
    if (level == LOG_INFO) fprintf(stderr, "%s\n", line);
    else fprintf(stderr, "gridplan: %s: %s\n", names[level < 4 ? level : 3], line);
}

double log_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_draw(progress_t *p, int final) {
    double pct = p->total ? 100.0 * (double)p->done / (double)p->total : 100.0;
    double secs = log_now() - p->started;
    if (p->tty) {
        int width = 30, fill = (int)(pct / 100.0 * width + 0.5);
        char bar[64];
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
        bar[width] = '\0';
        fprintf(stderr, "\r%-12s [%s] %5.1f%% %llu/%llu %.1fs%s", p->label, bar, pct,
                (unsigned long long)p->done, (unsigned long long)p->total, secs, final ? "\n" : "");
    } else {
        fprintf(stderr, "%s: %.0f%% (%llu/%llu) %.1fs\n", p->label, pct,
                (unsigned long long)p->done, (unsigned long long)p->total, secs);
    }
    fflush(stderr);
}

void progress_start(progress_t *p, const char *label, uint64_t total) {
    p->label = label;
    p->total = total;
    p->done = 0;
    p->started = log_now();
    p->last_shown = -1;
    p->tty = isatty(2);
}

void progress_update(progress_t *p, uint64_t done) {
    p->done = done;
    if (log_level > LOG_INFO || !p->total) return;
    int permille = (int)(1000.0 * (double)done / (double)p->total);
    int step = p->tty ? 5 : 100;
    if (permille / step == p->last_shown / step && p->last_shown >= 0) return;
    p->last_shown = permille;
    if (done < p->total) progress_draw(p, 0);
}

void progress_finish(progress_t *p) {
    p->done = p->total;
    if (log_level > LOG_INFO) return;
    progress_draw(p, 1);
}
