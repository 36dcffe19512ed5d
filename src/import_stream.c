/* import_stream.c — FeatureCollection members and features located by a byte scan, parsed one at
 * a time by jansson.
 *
 * The scan only tracks strings (with escapes) and bracket depth; it does not validate. Validation is
 * jansson's, on each span, and its byte position is mapped back to a line and column of the whole
 * file, so a malformed feature deep in a large file is reported where an editor would show it. */
#include "import_stream.h"
#include "err.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1-based line and column of byte pos. Only called on errors, so a linear count is fine. */
static void stream_linecol(const import_stream_t *s, size_t pos, int *line, int *col) {
    int l = 1;
    size_t last_nl = (size_t)-1;
    for (size_t i = 0; i < pos && i < s->len; i++)
        if (s->data[i] == '\n') l++, last_nl = i;
    *line = l;
    *col = (int)(pos - (last_nl + 1)) + 1;
}

static int stream_error(const import_stream_t *s, size_t pos, const char *what, char *err, size_t errlen) {
    int line, col;
    stream_linecol(s, pos, &line, &col);
    return err_set(err, errlen, GP_EINVAL, "%s: line %d, column %d: malformed JSON: %s", s->file, line, col, what);
}

static size_t stream_ws(const import_stream_t *s, size_t p) {
    while (p < s->len && (s->data[p] == ' ' || s->data[p] == '\n' || s->data[p] == '\r' || s->data[p] == '\t')) p++;
    return p;
}

/* p at an opening quote; returns the index after the closing quote, or len when the input ends. */
static size_t stream_string_end(const import_stream_t *s, size_t p) {
    for (size_t i = p + 1; i < s->len; i++) {
        if (s->data[i] == '\\') i++;
        else if (s->data[i] == '"') return i + 1;
    }
    return s->len + 1;
}

/* End (exclusive) of the value starting at p, or len + 1 when the input ends inside it. */
static size_t stream_value_end(const import_stream_t *s, size_t p) {
    if (p >= s->len) return s->len + 1;
    char c = s->data[p];
    if (c == '"') return stream_string_end(s, p);
    if (c == '{' || c == '[') {
        int depth = 0;
        for (size_t i = p; i < s->len; i++) {
            c = s->data[i];
            if (c == '"') {
                i = stream_string_end(s, i) - 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
            }
        }
        return s->len + 1;
    }
    size_t i = p;
    while (i < s->len && !strchr(",]} \t\r\n", s->data[i])) i++;
    return i;
}

/* Parses data[a, b) with jansson; on failure maps its position to the whole file. */
static json_t *stream_parse(const import_stream_t *s, size_t a, size_t b, char *err, size_t errlen) {
    json_error_t je;
    json_t *v = json_loadb(s->data + a, b - a, JSON_DECODE_ANY, &je);
    if (!v) stream_error(s, a + (size_t)(je.position > 0 ? je.position : 0), je.text, err, errlen);
    return v;
}

static int stream_push(import_stream_t *s, size_t a, size_t b, size_t *cap) {
    if (s->nfeatures == *cap) {
        size_t n = *cap ? *cap * 2 : 4096;
        size_t *x = realloc(s->start, n * sizeof *x), *y;
        if (!x) return GP_ENOMEM;
        s->start = x;
        if (!(y = realloc(s->end, n * sizeof *y))) return GP_ENOMEM;
        s->end = y;
        *cap = n;
    }
    s->start[s->nfeatures] = a;
    s->end[s->nfeatures] = b;
    s->nfeatures++;
    return GP_OK;
}

/* Indexes the elements of the array at p; returns the index after it, or 0 after filling err. */
static size_t stream_index_features(import_stream_t *s, size_t p, char *err, size_t errlen) {
    size_t cap = 0;
    p = stream_ws(s, p + 1);
    if (p < s->len && s->data[p] == ']') return p + 1;
    for (;;) {
        size_t e = stream_value_end(s, p);
        if (e > s->len || e == p) {
            stream_error(s, e > s->len ? s->len : p, e > s->len ? "premature end of input (truncated file?)" : "value expected", err, errlen);
            return 0;
        }
        if (stream_push(s, p, e, &cap)) {
            err_set(err, errlen, GP_ENOMEM, "%s: out of memory indexing features", s->file);
            return 0;
        }
        p = stream_ws(s, e);
        if (p >= s->len) {
            stream_error(s, s->len, "premature end of input (truncated file?)", err, errlen);
            return 0;
        }
        if (s->data[p] == ']') return p + 1;
        if (s->data[p] != ',') {
            stream_error(s, p, "',' or ']' expected after a feature", err, errlen);
            return 0;
        }
        p = stream_ws(s, p + 1);
    }
}

int import_stream_open(import_stream_t *s, const char *file, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->file = file;
    int fd = open(file, O_RDONLY);
    if (fd < 0) return err_set(err, errlen, GP_ENOTFOUND, "%s: no such file", file);
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return err_set(err, errlen, GP_EIO, "%s: not a regular file", file);
    }
    if (sb.st_size == 0) {
        close(fd);
        return err_set(err, errlen, GP_EINVAL, "%s: empty file (no JSON)", file);
    }
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return err_set(err, errlen, GP_EIO, "%s: cannot map the file", file);
    madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
    s->data = map;
    s->len = (size_t)sb.st_size;
    s->header = json_object();

    size_t p = 0;
    if (s->len >= 3 && !memcmp(s->data, "\xEF\xBB\xBF", 3)) p = 3; /* a UTF-8 BOM some tools write */
    p = stream_ws(s, p);
    if (p >= s->len || s->data[p] != '{') {
        /* Not an object: let jansson say whether it is JSON at all. */
        json_t *any = stream_parse(s, p, s->len, err, errlen);
        if (!any) return GP_EINVAL;
        json_decref(any);
        return err_set(err, errlen, GP_EINVAL, "%s: not a GeoJSON FeatureCollection (the top level is not an object)", file);
    }
    p = stream_ws(s, p + 1);
    if (p < s->len && s->data[p] == '}') p++;
    else for (;;) {
        if (p >= s->len) return stream_error(s, s->len, "premature end of input (truncated file?)", err, errlen);
        if (s->data[p] != '"') return stream_error(s, p, "string or '}' expected", err, errlen);
        size_t ke = stream_string_end(s, p);
        if (ke > s->len) return stream_error(s, s->len, "premature end of input (truncated file?)", err, errlen);
        json_t *key = stream_parse(s, p, ke, err, errlen);
        if (!key) return GP_EINVAL;
        char name[64];
        snprintf(name, sizeof name, "%s", json_string_value(key));
        json_decref(key);
        p = stream_ws(s, ke);
        if (p >= s->len || s->data[p] != ':') {
            return stream_error(s, p >= s->len ? s->len : p, p >= s->len ? "premature end of input (truncated file?)" : "':' expected", err, errlen);
        }
        p = stream_ws(s, p + 1);
        size_t ve;
        if (!strcmp(name, "features") && p < s->len && s->data[p] == '[') {
            s->has_features_array = 1;
            if (!(ve = stream_index_features(s, p, err, errlen))) return GP_EINVAL;
        } else {
            ve = stream_value_end(s, p);
            if (ve > s->len) return stream_error(s, s->len, "premature end of input (truncated file?)", err, errlen);
            if (ve == p) return stream_error(s, p, "value expected", err, errlen);
            json_t *v = stream_parse(s, p, ve, err, errlen);
            if (!v) return GP_EINVAL;
            json_object_set_new(s->header, name, v);
        }
        p = stream_ws(s, ve);
        if (p >= s->len) return stream_error(s, s->len, "premature end of input (truncated file?)", err, errlen);
        if (s->data[p] == '}') { p++; break; }
        if (s->data[p] != ',') return stream_error(s, p, "',' or '}' expected", err, errlen);
        p = stream_ws(s, p + 1);
    }
    p = stream_ws(s, p);
    if (p < s->len) return stream_error(s, p, "end of file expected", err, errlen);
    return GP_OK;
}

json_t *import_stream_feature(import_stream_t *s, size_t i, char *err, size_t errlen) {
    if (i >= s->nfeatures) return NULL;
    return stream_parse(s, s->start[i], s->end[i], err, errlen);
}

void import_stream_release(import_stream_t *s, size_t i) {
    if (i >= s->nfeatures) return;
    long page = sysconf(_SC_PAGESIZE);
    size_t upto = s->start[i] / (size_t)page * (size_t)page;
    if (upto > s->released) {
        madvise((void *)s->data, upto, MADV_DONTNEED);
        s->released = upto;
    }
}

void import_stream_close(import_stream_t *s) {
    if (s->data) munmap((void *)s->data, s->len);
    json_decref(s->header);
    free(s->start);
    free(s->end);
    memset(s, 0, sizeof *s);
}
