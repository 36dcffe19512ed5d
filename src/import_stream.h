/* import_stream.h — a GeoJSON FeatureCollection read one feature at a time, so memory follows the
 * largest feature, not the file (jansson's whole tree of a 34 MB file is about 300 MB). */
#ifndef GP_IMPORT_STREAM_H
#define GP_IMPORT_STREAM_H
#include <jansson.h>
#include <stddef.h>

/* The file is mapped read-only; a byte scan finds each top-level member and each element of the
 * "features" array without building them. Members other than "features" (type, name, crs, bbox)
 * are parsed into `header`. Single-threaded; free with import_stream_close(). */
typedef struct import_stream {
    const char *file;
    const char *data;          /* the mapping */
    size_t len;
    json_t *header;            /* {"type": ..., "crs": ..., "features": <only when not an array>} */
    int has_features_array;    /* "features" was an array */
    size_t nfeatures;
    size_t *start, *end;       /* byte span of feature i */
    size_t released;           /* bytes handed back to the kernel (see import_stream_release) */
} import_stream_t;

/* Opens and indexes file. Returns 0, GP_ENOTFOUND (no such file, err says so), GP_EIO, or GP_EINVAL
 * for malformed JSON outside the features with err "FILE: line L, column C: malformed JSON: what"
 * ("premature end of input (truncated file?)" for a cut-off file). */
int import_stream_open(import_stream_t *s, const char *file, char *err, size_t errlen);

/* Parses feature i (a new reference, json_decref it), or NULL with err in the same form as above. */
json_t *import_stream_feature(import_stream_t *s, size_t i, char *err, size_t errlen);

/* Tells the kernel the bytes before feature i will not be read again (keeps RSS flat). */
void import_stream_release(import_stream_t *s, size_t i);

void import_stream_close(import_stream_t *s);   /* accepts a zeroed stream */

#endif
