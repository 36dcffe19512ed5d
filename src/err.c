/* err.c — error codes and the error buffer. */
#include "err.h"
#include <stdarg.h>
#include <stdio.h>

int err_set(char *err, size_t errlen, int code, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *err_name(int code) {
    switch (code) {
    case GP_OK: return "ok";
    case GP_EINVAL: return "invalid input";
    case GP_EIO: return "I/O error";
    case GP_ENOMEM: return "out of memory";
    case GP_ENOTFOUND: return "not found";
    case GP_ECONFLICT: return "conflict";
    case GP_EDB: return "database error";
    case GP_EGEOM: return "geometry error";
    case GP_EINFEASIBLE: return "infeasible";
    case GP_EAUTH: return "unauthorized";
    case GP_EFORBIDDEN: return "forbidden";
    default: return "unknown error";
    }
}
