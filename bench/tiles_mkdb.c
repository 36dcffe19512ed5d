/* tiles_mkdb.c — bench helper: copies the benchmark's synthetic city (an ogr2ogr SpatiaLite file with
 * communities, grids, buildings, facilities) into a gridplan database made by store_open, so gridplan
 * and the peers render the same features. usage: tiles_mkdb SRC.sqlite DST.sqlite */
#include "store.h"
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: tiles_mkdb SRC.sqlite DST.sqlite\n"); return 2; }
    char err[512], sql[2048];
    store_t *st;
    unlink(argv[2]);
    if (store_open(argv[2], STORE_CREATE, &st, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    snprintf(sql, sizeof sql, "ATTACH DATABASE '%s' AS src", argv[1]);
    const char *steps[] = {
        sql,
        "BEGIN",
        "INSERT INTO communities(fid, code, name, households, population, geom) SELECT fid, code, name, households, "
        "households * 3, CastToMultiPolygon(geom) FROM src.communities",
        "INSERT INTO grids(fid, code, community_code, seq, households, geom) SELECT fid, code, community_code, "
        "CAST(substr(code, 13) AS INTEGER), households, CastToMultiPolygon(geom) FROM src.grids",
        "INSERT INTO buildings(fid, households, community_code, grid_code, geom) SELECT fid, households, "
        "community_code, grid_code, geom FROM src.buildings",
        "INSERT INTO facilities(fid, type, name, geom) SELECT fid, type, '', geom FROM src.facilities",
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('data_version', '1')",
        "COMMIT",
        NULL};
    for (int i = 0; steps[i]; i++)
        if (store_exec(st, steps[i], err, sizeof err)) { fprintf(stderr, "%s\n", err); store_close(st); return 1; }
    store_exec(st, "DETACH DATABASE src", NULL, 0);
    printf("%s: %lld communities, %lld grids, %lld buildings, %lld facilities\n", argv[2],
           (long long)store_count(st, "communities"), (long long)store_count(st, "grids"),
           (long long)store_count(st, "buildings"), (long long)store_count(st, "facilities"));
    store_close(st);
    return 0;
}
