// geo.js — small pure geometry helpers on GeoJSON (lon/lat): which feature contains a point, and a
// point surely inside a polygon. No Leaflet here, so the e2e test imports it too.

function ringContains(ring, x, y) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function polygonContains(rings, x, y) {
  if (!rings.length || !ringContains(rings[0], x, y)) return false;
  for (let h = 1; h < rings.length; h++) if (ringContains(rings[h], x, y)) return false;
  return true;
}

export function geometryContains(geom, x, y) {
  if (!geom) return false;
  if (geom.type === 'Polygon') return polygonContains(geom.coordinates, x, y);
  if (geom.type === 'MultiPolygon') return geom.coordinates.some((p) => polygonContains(p, x, y));
  return false;
}

// The first feature of a FeatureCollection whose polygon contains (x, y), or null.
export function featureAt(fc, x, y) {
  if (!fc || !Array.isArray(fc.features)) return null;
  return fc.features.find((f) => geometryContains(f.geometry, x, y)) || null;
}

export function geometryBbox(geom) {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      if (c[0] < w) w = c[0];
      if (c[0] > e) e = c[0];
      if (c[1] < s) s = c[1];
      if (c[1] > n) n = c[1];
    } else c.forEach(walk);
  };
  walk(geom.coordinates);
  return [w, s, e, n];
}

// A point inside the polygon, away from its edge: scans horizontal lines through the bbox and
// takes the midpoint of the widest inside span (good enough for concave communities).
export function interiorPoint(geom) {
  const [w, s, e, n] = geometryBbox(geom);
  let best = null;
  let bestWidth = -1;
  const polys = geom.type === 'Polygon' ? [geom.coordinates] : geom.coordinates;
  for (let k = 1; k < 40; k++) {
    const y = s + ((n - s) * k) / 40;
    const xs = [];
    for (const rings of polys) {
      for (const ring of rings) {
        for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          const [xi, yi] = ring[i];
          const [xj, yj] = ring[j];
          if ((yi > y) !== (yj > y)) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
        }
      }
    }
    xs.sort((a, b) => a - b);
    for (let i = 0; i + 1 < xs.length; i += 2) {
      const width = xs[i + 1] - xs[i];
      if (width > bestWidth) { bestWidth = width; best = [(xs[i] + xs[i + 1]) / 2, y]; }
    }
  }
  return best || [(w + e) / 2, (s + n) / 2];
}
