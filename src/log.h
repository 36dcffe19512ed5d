/* log.h — leveled logging to stderr and a progress bar for long jobs. */
#ifndef GP_LOG_H
#define GP_LOG_H
#include <stddef.h>
#include <stdint.h>

enum { LOG_DEBUG = 0, LOG_INFO = 1, LOG_WARN = 2, LOG_ERROR = 3, LOG_QUIET = 4 };

/* Set once at start-up (before threads start). Default LOG_INFO. */
void log_set_level(int level);
int log_get_level(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* A progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise,
 * silent when the log level is above LOG_INFO. Single-threaded use. */
typedef struct progress {
    const char *label;
    uint64_t total;
    uint64_t done;
    double started;
    int last_shown;   /* per-mille last drawn */
    int tty;
} progress_t;

void progress_start(progress_t *p, const char *label, uint64_t total);
void progress_update(progress_t *p, uint64_t done);
void progress_finish(progress_t *p);

/* Monotonic seconds. */
double log_now(void);

#endif
