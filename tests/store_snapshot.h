/* store_snapshot.h — test helper: every row of every feature table (blobs in hex) plus meta, as
 * one string, so "the database is unchanged" and "undo restored it byte for byte" are str_eq checks. */
#ifndef GP_TEST_STORE_SNAPSHOT_H
#define GP_TEST_STORE_SNAPSHOT_H
#include "buf.h"
#include "store.h"
#include <stdio.h>

/* Caller frees with free(). */
static char *store_snapshot(store_t *st) {
    buf_t b = {0};
    for (int i = 0; store_tables[i]; i++) {
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY fid", store_tables[i]);
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) continue;
        buf_printf(&b, "%s:", store_tables[i]);
        while (sqlite3_step(s) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(s); c++) {
                int type = sqlite3_column_type(s, c);
                if (type == SQLITE_BLOB) {
                    const unsigned char *p = sqlite3_column_blob(s, c);
                    for (int k = 0; k < sqlite3_column_bytes(s, c); k++) buf_printf(&b, "%02x", p[k]);
                } else if (type == SQLITE_NULL) {
                    buf_puts(&b, "NULL");
                } else {
                    buf_printf(&b, "%d/%s", type, sqlite3_column_text(s, c));
                }
                buf_puts(&b, "|");
            }
            buf_puts(&b, "\n");
        }
        sqlite3_finalize(s);
    }
    char v[64] = "";
    store_meta_get(st, "data_version", v, sizeof v);
    buf_printf(&b, "data_version=%s", v);
    return buf_steal(&b, NULL);
}

#endif
