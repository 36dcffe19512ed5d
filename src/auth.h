/* auth.h — API bearer tokens: roles, SHA-256 hashing, constant-time lookup in table `tokens`.
 *
 * A token is 32 random bytes shown once as 64 hex digits ("gp_" prefix); the database keeps only
 * its SHA-256 (hex). Lookup reads every row and compares each hash in constant time, so neither
 * the SQL index nor an early exit tells an attacker how close a guess was. */
#ifndef GP_AUTH_H
#define GP_AUTH_H
#include <stddef.h>
#include <stdint.h>
#include "store.h"

/* Roles, ordered: a route's minimum role is met by any role >= it. */
enum { AUTH_NONE = 0, AUTH_VIEWER = 1, AUTH_PLANNER = 2, AUTH_ADMIN = 3 };

/* "viewer" / "planner" / "admin" (and "none") <-> the enum. auth_role_parse returns -1 if unknown. */
const char *auth_role_name(int role);
int auth_role_parse(const char *name);

/* SHA-256 of data into out[32]; auth_sha256_hex writes 64 lowercase hex digits + NUL into hex[65]. */
void auth_sha256(const void *data, size_t len, uint8_t out[32]);
void auth_sha256_hex(const void *data, size_t len, char hex[65]);

/* 1 if a and b (n bytes each) are equal; time depends on n only. */
int auth_equal_ct(const void *a, const void *b, size_t n);

/* Makes a new token (from /dev/urandom) into token[68] ("gp_" + 64 hex + NUL). 0 or GP_EIO. */
int auth_token_generate(char token[68]);

/* Adds a token row (name unique, role one of the names above) and writes the new plaintext token
 * into token[68]; the plaintext is not stored. GP_EINVAL for a bad role, GP_ECONFLICT for a taken name. */
int auth_token_add(store_t *st, const char *name, const char *role, char token[68], char *err, size_t errlen);
/* Deletes the token named name. GP_ENOTFOUND if there is none. */
int auth_token_revoke(store_t *st, const char *name, char *err, size_t errlen);

/* Finds the token: on a match returns its role (>= AUTH_VIEWER) and copies the owner's name into
 * name (size namelen); returns AUTH_NONE when no row matches, or a negative GP_E* code on a database
 * error. stmt_cache: optional pointer to a per-thread cached prepared statement (NULL to prepare
 * and finalize each time); the caller finalizes *stmt_cache when it closes st. */
int auth_lookup(store_t *st, const char *token, char *name, size_t namelen, void **stmt_cache);

#endif
