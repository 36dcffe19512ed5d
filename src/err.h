/* err.h — error codes and the human-readable error buffer every layer fills. */
#ifndef GP_ERR_H
#define GP_ERR_H
#include <stddef.h>

/* Every fallible function returns 0 or one of these negative codes, and may fill an
 * optional caller-owned buffer (err, errlen) with one sentence naming the input at fault. */
enum {
    GP_OK = 0,
    GP_EINVAL = -1,     /* bad input: malformed file, value out of range, bad geometry */
    GP_EIO = -2,        /* file or socket I/O failed */
    GP_ENOMEM = -3,     /* allocation failed */
    GP_ENOTFOUND = -4,  /* no such feature, table, profile, file */
    GP_ECONFLICT = -5,  /* would violate an invariant (overlap, locked community, stale edit) */
    GP_EDB = -6,        /* SQLite/SpatiaLite failure */
    GP_EGEOM = -7,      /* GEOS/PROJ failure on valid-looking input */
    GP_EINFEASIBLE = -8,/* the rules cannot be met (e.g. one building exceeds the band) */
    GP_EAUTH = -9,      /* missing or wrong credentials */
    GP_EFORBIDDEN = -10 /* credentials lack the role */
};

/* Writes a formatted sentence into err (NUL-terminated, truncated to errlen). err may be NULL.
 * Returns code so callers can write `return err_set(err, errlen, GP_EINVAL, "...")`. */
int err_set(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A short English name for a code ("invalid input", ...). Never NULL. */
const char *err_name(int code);

#endif
