// api.js — calls to gridplan's HTTP API (see the contract in the README): JSON in and out, the
// planner token from localStorage, and errors turned into ApiError with the server's sentence.
// URLs are relative so the page also works when served under a path prefix.

const TOKEN_KEY = 'gridplan.token';

export class ApiError extends Error {
  constructor(status, name, description) {
    super(description || name || `HTTP ${status}`);
    this.status = status;
    this.name = name || 'error';
  }
}

export function getToken() { return localStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(tok) {
  if (tok) localStorage.setItem(TOKEN_KEY, tok.trim());
  else localStorage.removeItem(TOKEN_KEY);
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const tok = getToken();
  if (tok) headers.Authorization = 'Bearer ' + tok;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'network', e.message);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    throw new ApiError(res.status, data && data.error, data && data.description ? data.description : text.slice(0, 200));
  }
  return data;
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body) => request('POST', path, body ?? {}),

  // Communities whose bbox touches a small box around a point; the caller picks the one that
  // contains the point (bbox order in OGC API: minLon,minLat,maxLon,maxLat).
  featuresNear(collection, lng, lat, radius, limit = 50) {
    const b = [lng - radius, lat - radius, lng + radius, lat + radius].map((v) => v.toFixed(7)).join(',');
    return request('GET', `collections/${collection}/items?bbox=${b}&limit=${limit}`);
  },
  featuresByProperty(collection, prop, value, limit = 100) {
    return request('GET', `collections/${collection}/items?${encodeURIComponent(prop)}=${encodeURIComponent(value)}&limit=${limit}`);
  },
  featuresInBbox(collection, bounds, limit = 10000) {
    const b = [bounds.getWest(), bounds.getSouth(), bounds.getEast(), bounds.getNorth()].map((v) => v.toFixed(6)).join(',');
    return request('GET', `collections/${collection}/items?bbox=${b}&limit=${limit}`);
  },
  community: (code) => request('GET', `api/communities/${encodeURIComponent(code)}`),
  search: (q) => request('GET', `api/search?q=${encodeURIComponent(q)}`),
  check: () => request('GET', 'api/check'),
  profile: () => request('GET', 'api/profile'),
  police: () => request('GET', 'api/police'),
  history: () => request('GET', 'api/history'),
  split: (community, parts, apply) => request('POST', 'api/split', parts ? { community, parts, apply } : { community, apply }),
  merge: (community, into, apply) => request('POST', 'api/merge', into ? { community, into, apply } : { community, apply }),
  grids: (community, apply) => request('POST', 'api/grids', { community, apply }),
  undoLast: () => request('POST', 'api/undo', {}),
  undo: (id) => request('POST', `api/undo/${id}`, {}),
};
