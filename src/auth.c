/* auth.c — SHA-256 (FIPS 180-4), constant-time comparison, and the `tokens` table. */
#include "auth.h"
#include "err.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const auth_roles[] = {"none", "viewer", "planner", "admin"};

const char *auth_role_name(int role) {
    return role >= AUTH_NONE && role <= AUTH_ADMIN ? auth_roles[role] : "unknown";
}

int auth_role_parse(const char *name) {
    for (int i = AUTH_VIEWER; i <= AUTH_ADMIN; i++)
        if (name && !strcmp(name, auth_roles[i])) return i;
    if (name && !strcmp(name, "none")) return AUTH_NONE;
    return -1;
}

/* ---- SHA-256 ------------------------------------------------------------------------------ */

static const uint32_t auth_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void auth_sha256_block(uint32_t h[8], const uint8_t *p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + auth_k[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void auth_sha256(const void *data, size_t len, uint8_t out[32]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    const uint8_t *p = data;
    size_t full = len / 64;
    for (size_t i = 0; i < full; i++) auth_sha256_block(h, p + 64 * i);
    uint8_t tail[128];
    size_t rest = len - full * 64;
    memset(tail, 0, sizeof tail);
    if (rest) memcpy(tail, p + full * 64, rest);
    tail[rest] = 0x80;
    size_t tlen = rest < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tlen - 1 - i] = (uint8_t)(bits >> (8 * i));
    auth_sha256_block(h, tail);
    if (tlen == 128) auth_sha256_block(h, tail + 64);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(h[i] >> 8);
        out[4 * i + 3] = (uint8_t)h[i];
    }
}

static void auth_hex(const uint8_t *in, size_t n, char *out) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

void auth_sha256_hex(const void *data, size_t len, char hex[65]) {
    uint8_t d[32];
    auth_sha256(data, len, d);
    auth_hex(d, 32, hex);
}

int auth_equal_ct(const void *a, const void *b, size_t n) {
    const volatile uint8_t *x = a, *y = b;
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++) diff |= x[i] ^ y[i];
    return diff == 0;
}

int auth_token_generate(char token[68]) {
    uint8_t raw[32];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return GP_EIO;
    ssize_t n = read(fd, raw, sizeof raw);
    close(fd);
    if (n != (ssize_t)sizeof raw) return GP_EIO;
    memcpy(token, "gp_", 3);
    auth_hex(raw, sizeof raw, token + 3);
    return GP_OK;
}

/* ---- The tokens table --------------------------------------------------------------------- */

int auth_token_add(store_t *st, const char *name, const char *role, char token[68], char *err, size_t errlen) {
    if (auth_role_parse(role) < AUTH_VIEWER)
        return err_set(err, errlen, GP_EINVAL, "role '%s': expected viewer, planner or admin", role);
    if (!name || !*name) return err_set(err, errlen, GP_EINVAL, "a token needs a name (--name)");
    if (auth_token_generate(token)) return err_set(err, errlen, GP_EIO, "cannot read /dev/urandom");
    char hash[65];
    auth_sha256_hex(token, strlen(token), hash);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "INSERT INTO tokens(name, role, hash) VALUES (?, ?, ?)", -1, &s, NULL) != SQLITE_OK)
        return err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, role, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, hash, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    int rc = GP_OK;
    if (r == SQLITE_CONSTRAINT) rc = err_set(err, errlen, GP_ECONFLICT, "a token named '%s' already exists", name);
    else if (r != SQLITE_DONE) rc = err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    if (rc) memset(token, 0, 68);
    return rc;
}

int auth_token_revoke(store_t *st, const char *name, char *err, size_t errlen) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(st->db, "DELETE FROM tokens WHERE name = ?", -1, &s, NULL) != SQLITE_OK)
        return err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s) == SQLITE_DONE ? GP_OK : err_set(err, errlen, GP_EDB, "%s: %s", st->path, sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    if (!rc && sqlite3_changes(st->db) == 0) rc = err_set(err, errlen, GP_ENOTFOUND, "no token named '%s'", name);
    return rc;
}

int auth_lookup(store_t *st, const char *token, char *name, size_t namelen, void **stmt_cache) {
    char hash[65];
    auth_sha256_hex(token, strlen(token), hash);
    sqlite3_stmt *s = stmt_cache ? *stmt_cache : NULL;
    if (!s) {
        if (sqlite3_prepare_v3(st->db, "SELECT name, role, hash FROM tokens", -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
            return GP_EDB;
        if (stmt_cache) *stmt_cache = s;
    }
    /* Every row is compared, whatever matched earlier: the time does not depend on the token. */
    int role = AUTH_NONE, r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        const char *h = (const char *)sqlite3_column_text(s, 2);
        if (!h || strlen(h) != 64) continue;
        if (auth_equal_ct(h, hash, 64)) {
            role = auth_role_parse((const char *)sqlite3_column_text(s, 1));
            if (role < AUTH_VIEWER) role = AUTH_NONE;
            if (name) snprintf(name, namelen, "%s", (const char *)sqlite3_column_text(s, 0));
        }
    }
    sqlite3_reset(s);
    if (!stmt_cache) sqlite3_finalize(s);
    return r == SQLITE_DONE ? role : GP_EDB;
}
