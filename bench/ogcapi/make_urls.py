#!/usr/bin/env python3
"""Writes the request paths for the OGC API benchmark, in one fixed shuffled order (Random(12345)):
the bbox of every z14 tile (communities, limit 100) and z15 tile (buildings, limit 100 and 1000)
over the communities' extent, and single features by id.
usage: make_urls.py DB OUTDIR [PREFIX_GRIDPLAN] [PREFIX_MAPSERVER]"""
import math, os, random, sqlite3, sys

db, out = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db)
w, s, e, n = con.execute("SELECT min(xmin), min(ymin), max(xmax), max(ymax) FROM idx_communities_geom").fetchone()
max_bfid = con.execute("SELECT max(fid) FROM buildings").fetchone()[0] or 1
max_cfid = con.execute("SELECT max(fid) FROM communities").fetchone()[0] or 1


def tile_bounds(z, x, y):
    k = 2 ** z
    lon0, lon1 = x / k * 360 - 180, (x + 1) / k * 360 - 180
    lat = lambda t: math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * t / k))))
    return lon0, lat(y + 1), lon1, lat(y)


def tiles(z):
    k = 2 ** z
    x0, x1 = int((w + 180) / 360 * k), int((e + 180) / 360 * k)
    ty = lambda lat: int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * k)
    y0, y1 = ty(n), ty(s)
    return [tile_bounds(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def bbox(b): return ",".join("%.7f" % v for v in b)


rng = random.Random(12345)
z14, z15 = tiles(14), tiles(15)
rng.shuffle(z14)
rng.shuffle(z15)
os.makedirs(out, exist_ok=True)
lists = {
    "communities_100": ["/collections/communities/items?bbox=%s&limit=100" % bbox(b) for b in z14],
    "buildings_100": ["/collections/buildings/items?bbox=%s&limit=100" % bbox(b) for b in z15],
    "buildings_1000": ["/collections/buildings/items?bbox=%s&limit=1000" % bbox(b) for b in z15],
    "feature": ["/collections/buildings/items/%d" % rng.randint(1, max_bfid) for _ in range(5000)]
               + ["/collections/communities/items/%d" % rng.randint(1, max_cfid) for _ in range(0)],
    "ms_communities_100": ["/ms/cityd/ogcapi/collections/communities/items?f=json&bbox=%s&limit=100" % bbox(b) for b in z14],
    "ms_buildings_1000": ["/ms/cityd/ogcapi/collections/buildings/items?f=json&bbox=%s&limit=1000" % bbox(b) for b in z15],
    "bbox_z14": [bbox(b) for b in z14],
    "bbox_z15": [bbox(b) for b in z15],
}
for name, paths in lists.items():
    with open(os.path.join(out, name + ".txt"), "w") as f:
        f.write("\n".join(paths) + "\n")
print("urls: %d z14 tiles, %d z15 tiles over %.4f,%.4f,%.4f,%.4f" % (len(z14), len(z15), w, s, e, n))
