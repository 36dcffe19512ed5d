/* buf.h — growable byte buffer used for JSON, CSV, PNG and HTTP bodies. */
#ifndef GP_BUF_H
#define GP_BUF_H
#include <stddef.h>

/* A zeroed buf_t is an empty buffer. data is always NUL-terminated once anything was appended,
 * so text can be used as a C string; len excludes the terminator. Free with buf_free(). */
typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
} buf_t;

int buf_reserve(buf_t *b, size_t extra);               /* 0 or GP_ENOMEM */
int buf_append(buf_t *b, const void *data, size_t n);  /* 0 or GP_ENOMEM */
int buf_puts(buf_t *b, const char *s);
int buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes and escapes included). */
int buf_json_string(buf_t *b, const char *s);
/* Appends a double with up to `decimals` digits after the point, trailing zeros trimmed. */
int buf_double(buf_t *b, double v, int decimals);
void buf_reset(buf_t *b);                               /* len = 0, keeps memory */
/* Hands the memory to the caller (free() it); the buffer becomes empty. */
char *buf_steal(buf_t *b, size_t *len);
void buf_free(buf_t *b);                                /* accepts NULL */

#endif
