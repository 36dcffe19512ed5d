// inspect.js — what is under a click (community and grid), the numbers panel for it, and the
// community search box. The selected community is also the subject of the Plan panel.
import { api } from './api.js';
import { featureAt } from './geo.js';
import { t, tStatus, tAction, fmtNum, fmtPct } from './i18n.js';
import { getMap, showSelection, circleLabel, dataVersion, fitToShow } from './map.js';

// The current selection, read by plan.js.
export const selection = { community: null, grid: null, info: null, lngLat: null };
const listeners = [];
export function onSelect(fn) { listeners.push(fn); }

// Search radius for the bbox query: a few screen pixels at the current zoom, in degrees.
function clickRadius() {
  const m = getMap();
  const c = m.getCenter();
  const p = m.latLngToContainerPoint(c);
  const q = m.containerPointToLatLng([p.x + 3, p.y]);
  return Math.max(Math.abs(q.lng - c.lng), 1e-6);
}

export async function inspectAt(lngLat) {
  const { lng, lat } = lngLat;
  selection.lngLat = lngLat;
  const out = document.getElementById('inspect');
  document.getElementById('inspect-hint').hidden = true;
  out.replaceChildren(para(t('loading'), 'hint'));
  const r = clickRadius();
  try {
    const [cfc, gfc] = await Promise.all([
      api.featuresNear('communities', lng, lat, r),
      api.featuresNear('grids', lng, lat, r).catch(() => null),
    ]);
    const community = featureAt(cfc, lng, lat);
    const grid = featureAt(gfc, lng, lat);
    await select(community, grid);
  } catch (e) {
    out.replaceChildren(para(t('error', { msg: e.message }), 'error'));
  }
}

// Selects a community by code (search results, plan results): fetches its feature too.
export async function selectByCode(code, { zoom = true } = {}) {
  const fc = await api.featuresByProperty('communities', 'code', code, 1);
  const f = fc && fc.features && fc.features[0];
  if (!f) throw new Error(code);
  if (zoom) {
    const b = L.geoJSON(f).getBounds();   // eslint-disable-line no-undef
    if (b.isValid()) fitToShow(b);
  }
  await select(f, null);
}

async function select(community, grid) {
  const out = document.getElementById('inspect');
  selection.community = community;
  selection.grid = grid;
  selection.info = null;
  showSelection(grid ? { type: 'FeatureCollection', features: [community, grid].filter(Boolean) } : community);
  document.getElementById('inspect-hint').hidden = Boolean(community || grid);
  if (!community && !grid) {
    out.replaceChildren();
    listeners.forEach((fn) => fn(selection));
    return;
  }
  const nodes = [];
  if (community) {
    const code = community.properties.code;
    let info = null;
    try {
      info = await api.community(code);
    } catch (e) {
      nodes.push(para(t('error', { msg: e.message }), 'error'));
    }
    selection.info = info;
    nodes.push(communityCard(community.properties, info));
  }
  if (grid) nodes.push(gridCard(grid.properties));
  out.replaceChildren(...nodes);
  listeners.forEach((fn) => fn(selection));
  if (community) fillCoverage(community.properties.code, out.querySelector('.community-card'));
}

// Coverage per circle type comes from the computed coverage collection (one feature per mode) and
// appears in the card when it arrives: the server answers in about 1.5 s after an edit and in
// milliseconds after that. At most one coverage request is in flight: clicks made meanwhile wait
// their turn, and a turn whose community is no longer selected is skipped, so quick clicking
// through the map costs one request, not one per click. Answers are kept per data version.
const coverageCache = new Map();   // code -> features, for coverageVersion only
let coverageVersion = null;
let coverageQueue = Promise.resolve();

function cachedCoverage(code) {
  if (coverageVersion !== dataVersion()) { coverageCache.clear(); coverageVersion = dataVersion(); }
  return coverageCache.get(code);
}

async function fillCoverage(code, card) {
  if (!card) return;
  const hit = cachedCoverage(code);
  if (hit) { card.appendChild(coverageBox(hit)); return; }
  const box = document.createElement('div');
  box.className = 'coverage-box';
  box.setAttribute('aria-busy', 'true');
  const h4 = document.createElement('h4');
  h4.textContent = t('coverage');
  box.append(h4, para(t('loading'), 'hint coverage-loading'));
  card.appendChild(box);
  const stillSelected = () => selection.community && selection.community.properties.code === code;
  const version = dataVersion();
  const turn = coverageQueue.then(async () => {
    if (!stillSelected()) return null;
    const again = cachedCoverage(code);
    if (again) return { features: again };
    return api.featuresByProperty('coverage', 'code', code, 4);
  });
  coverageQueue = turn.catch(() => null);
  let fc;
  try {
    fc = await turn;
  } catch (e) {
    const current = document.querySelector(`#inspect .community-card[data-code="${code}"] .coverage-box`);
    if (current && stillSelected()) {
      current.removeAttribute('aria-busy');
      current.replaceChildren(h4, para(t('error', { msg: e.message }), 'error'));
    }
    return;
  }
  if (!fc || !stillSelected()) return;
  const feats = fc.features || [];
  // cachedCoverage() first empties the cache if the data moved on, so it only holds this version.
  if (version === dataVersion() && !cachedCoverage(code)) coverageCache.set(code, feats);
  // The card may have been drawn again meanwhile (language switch, refresh): fill the current one.
  const current = document.querySelector(`#inspect .community-card[data-code="${code}"]`);
  if (!current) return;
  current.querySelector('.coverage-box')?.remove();
  current.appendChild(coverageBox(feats));
}

function coverageBox(feats) {
  const box = document.createElement('div');
  box.className = 'coverage-box';
  const h4 = document.createElement('h4');
  h4.textContent = t('coverage');
  box.append(h4, feats.length ? coverageTable(feats) : para('—', 'hint'));
  return box;
}

function coverageTable(feats) {
  const modes = feats.map((f) => f.properties.mode || '');
  const circles = Object.keys(feats[0].properties).filter((k) => k.endsWith('_share')).map((k) => k.slice(0, -6));
  const table = document.createElement('table');
  table.className = 'coverage-table';
  const head = document.createElement('tr');
  const corner = document.createElement('th');
  corner.scope = 'col';
  corner.textContent = t('circle');
  head.appendChild(corner);
  for (const m of modes) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = t('mode_' + m);
    head.appendChild(th);
  }
  const thead = document.createElement('thead');
  thead.appendChild(head);
  const tbody = document.createElement('tbody');
  for (const c of circles) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = circleLabel(c);
    tr.appendChild(th);
    feats.forEach((f, i) => {
      const td = document.createElement('td');
      td.className = 'num';
      td.dataset.key = `coverage-${c}-${modes[i]}`;
      td.textContent = fmtPct(f.properties[c + '_share']);
      tr.appendChild(td);
    });
    tbody.appendChild(tr);
  }
  table.append(thead, tbody);
  return table;
}

function para(text, cls) {
  const p = document.createElement('p');
  p.className = cls || '';
  p.textContent = text;
  return p;
}

function dl(rows) {
  const d = document.createElement('dl');
  d.className = 'numbers';
  for (const [k, v, key] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    if (key) dd.dataset.key = key;
    d.append(dt, dd);
  }
  return d;
}

function communityCard(props, info) {
  const n = info || {};
  const box = document.createElement('article');
  box.className = 'card community-card';
  box.dataset.code = props.code;
  const h = document.createElement('h3');
  h.textContent = `${t('community')} · ${n.name || props.name || ''}`;
  box.appendChild(h);
  const status = n.status;
  const rows = [
    [t('code'), props.code, 'code'],
    [t('street'), n.street_name ? `${n.street_name} (${n.street_code})` : (n.street_code || props.street_code || '—'), 'street'],
    [t('households'), fmtNum(n.households ?? props.households), 'households'],
    [t('population'), fmtNum(n.population ?? props.population), 'population'],
    [t('status'), tStatus(status), 'status'],
  ];
  if (n.action !== undefined) rows.push([t('action'), tAction(n.action), 'action']);
  rows.push([t('minjing'), fmtNum(n.minjing), 'minjing'], [t('fujing'), fmtNum(n.fujing), 'fujing']);
  if (n.workers !== undefined) rows.push([t('workers'), fmtNum(n.workers, 1), 'workers']);
  if (Array.isArray(n.band)) rows.push([t('bandLabel'), `${fmtNum(n.band[0])}–${fmtNum(n.band[1])}${n.profile ? ' (' + n.profile + ')' : ''}`, 'band']);
  const gridCount = typeof n.grids === 'number' ? n.grids : (n.grids && n.grids.count);
  rows.push([t('grids'), fmtNum(gridCount), 'grids']);
  box.appendChild(dl(rows));
  if (status) {
    const badge = document.createElement('span');
    badge.className = 'badge status-' + status;
    badge.textContent = tStatus(status);
    h.appendChild(badge);
  }
  return box;
}

function gridCard(props) {
  const box = document.createElement('article');
  box.className = 'card grid-card';
  const h = document.createElement('h3');
  h.textContent = t('grid');
  box.appendChild(h);
  box.appendChild(dl([
    [t('code'), props.code, 'grid-code'],
    [t('seq'), fmtNum(props.seq)],
    [t('households'), fmtNum(props.households), 'grid-households'],
    [t('population'), fmtNum(props.population)],
  ]));
  return box;
}

// Search box: results as a listbox under the input; Enter or click zooms to the community.
export function initSearch(form, input, list, onPicked) {
  let results = [];
  let active = -1;
  const close = () => { list.hidden = true; active = -1; input.removeAttribute('aria-activedescendant'); };
  const pick = async (i) => {
    const r = results[i];
    if (!r) return;
    close();
    input.value = r.name;
    if (Array.isArray(r.bbox) && r.bbox.length === 4) {
      fitToShow([[r.bbox[1], r.bbox[0]], [r.bbox[3], r.bbox[2]]]);
    }
    try { await selectByCode(r.code, { zoom: !r.bbox }); onPicked(); } catch (e) { console.warn(e.message); }
  };
  const mark = () => {
    [...list.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
    if (active >= 0) input.setAttribute('aria-activedescendant', 'sr-' + active);
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (active >= 0) { pick(active); return; }
    const q = input.value.trim();
    if (!q) return;
    try { results = await api.search(q); } catch (e) { results = []; console.warn(e.message); }
    if (!Array.isArray(results)) results = [];
    list.replaceChildren();
    if (!results.length) {
      const li = document.createElement('li');
      li.className = 'empty';
      li.textContent = t('noResults');
      list.appendChild(li);
    }
    results.slice(0, 20).forEach((r, i) => {
      const li = document.createElement('li');
      li.id = 'sr-' + i;
      li.setAttribute('role', 'option');
      li.tabIndex = -1;
      li.textContent = `${r.name} · ${r.code}`;
      li.addEventListener('click', () => pick(i));
      list.appendChild(li);
    });
    list.hidden = false;
    if (results.length === 1) pick(0);
  });
  input.addEventListener('keydown', (ev) => {
    if (list.hidden || !results.length) return;
    if (ev.key === 'ArrowDown') { active = Math.min(active + 1, results.length - 1); mark(); ev.preventDefault(); }
    else if (ev.key === 'ArrowUp') { active = Math.max(active - 1, 0); mark(); ev.preventDefault(); }
    else if (ev.key === 'Escape') close();
  });
  input.addEventListener('input', () => { active = -1; });
  document.addEventListener('click', (ev) => { if (!form.contains(ev.target)) close(); });
}
