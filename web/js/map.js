// map.js — the Leaflet map: gridplan's raster tile layers (toggled from the Layers panel, each with
// its legend), the browser-drawn coverage-gap layer, and GeoJSON overlays for the selection and for
// plan previews. Tile URLs carry ?v=<data version> so that after an edit every tile is fetched anew
// and no stale tile stays on screen.
/* global L */
import { api } from './api.js';
import { t } from './i18n.js';
import { coverageColour, COVERAGE_OPACITY, loadStyle, legendRows, legendElement } from './legends.js';

// Draw order bottom to top; `on` is the initial state.
const TILE_LAYERS = [
  { id: 'default', on: false },
  { id: 'communities', on: true },
  { id: 'police', on: false },
  { id: 'circles', on: false },
  { id: 'grids', on: false },
  { id: 'buildings', on: false },
  { id: 'facilities', on: true },
];
const LAYER_ORDER = ['default', 'communities', 'coverage', 'police', 'circles', 'grids', 'buildings', 'facilities'];
// Layers that colour whole communities: one at a time.
const FILLS = ['communities', 'coverage', 'police'];

let map = null;
let version = '0';
const tileLayers = {};
let coverageLayer = null;
let coverageOn = false;
let selectionLayer = null;
let previewLayer = null;

function tileUrl(id) {
  return `tiles/${id}/{z}/{x}/{y}{r}.png?v=${encodeURIComponent(version)}`;
}

export function getMap() { return map; }

// Zooms to bounds in the part of the map the user can see: under 700 px the panel is a bottom sheet
// over the lower 55 % of the map (app.css), and it is open whenever something has just been selected.
export function fitToShow(bounds, maxZoom = 17) {
  const pad = 30;
  const sheet = window.matchMedia('(max-width: 700px)').matches ? Math.round(map.getSize().y * 0.55) : 0;
  map.fitBounds(bounds, { paddingTopLeft: [pad, pad], paddingBottomRight: [pad, pad + sheet], maxZoom });
}

export function initMap(el) {
  map = L.map(el, { zoomControl: true, keyboard: true, preferCanvas: false, maxZoom: 19, minZoom: 3 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution('gridplan');
  map.setView([40.8, 111.7], 12);   // replaced by the data extent as soon as it is known
  LAYER_ORDER.forEach((id, i) => {
    const pane = map.createPane('gp-' + id);
    pane.style.zIndex = String(250 + i * 10);
  });
  map.createPane('gp-select').style.zIndex = '450';
  map.createPane('gp-preview').style.zIndex = '460';
  for (const def of TILE_LAYERS) {
    tileLayers[def.id] = L.tileLayer(tileUrl(def.id), {
      pane: 'gp-' + def.id, maxZoom: 19, minZoom: 3, maxNativeZoom: 19, tileSize: 256,
      detectRetina: false, className: 'gp-tiles gp-tiles-' + def.id, keepBuffer: 1,
    });
    tileLayers[def.id].on('tileerror', onTileError);
    if (def.on) tileLayers[def.id].addTo(map);
  }
  return map;
}

// One message per failing layer: a tile endpoint that is down is worth saying once, not per tile.
const tileErrorShown = new Set();
function onTileError(ev) {
  const cls = ev.tile && ev.tile.closest && ev.tile.closest('.gp-tiles');
  const id = cls ? [...cls.classList].find((c) => c.startsWith('gp-tiles-')) : 'tiles';
  if (tileErrorShown.has(id)) return;
  tileErrorShown.add(id);
  console.warn('tile failed to load:', ev.tile && ev.tile.src);
}

// Fits the map to the data: TileJSON bounds first, then the communities collection's extent.
export async function fitToData() {
  try {
    const tj = await api.get('tiles/communities.json');
    if (tj && Array.isArray(tj.bounds) && tj.bounds.length === 4) {
      const [w, s, e, n] = tj.bounds;
      if (e > w && n > s) { map.fitBounds([[s, w], [n, e]]); return; }
    }
  } catch { /* fall through to the collection extent */ }
  try {
    const c = await api.get('collections/communities');
    const bb = c && c.extent && c.extent.spatial && c.extent.spatial.bbox && c.extent.spatial.bbox[0];
    if (bb && bb.length >= 4) map.fitBounds([[bb[1], bb[0]], [bb[3], bb[2]]]);
  } catch { /* keep the default view */ }
}

export function buildLayerPanel(listEl) {
  listEl.textContent = '';
  const ids = LAYER_ORDER.slice().reverse();
  for (const id of ids) {
    const row = document.createElement('div');
    row.className = 'layer-row';
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.id = 'layer-' + id;
    cb.dataset.layer = id;
    cb.checked = isOn(id);
    const label = document.createElement('label');
    label.htmlFor = cb.id;
    label.textContent = t('layer_' + id);
    cb.addEventListener('change', () => {
      setLayer(id, cb.checked);
      // Two translucent fills on top of each other mix into colours no legend shows: switching one
      // coloured fill on switches the others off.
      if (cb.checked && FILLS.includes(id)) {
        for (const other of FILLS) {
          if (other === id || !isOn(other)) continue;
          setLayer(other, false);
          const ocb = listEl.querySelector('#layer-' + other);
          if (ocb) ocb.checked = false;
        }
      }
      renderLegends(listEl);
    });
    if (id === 'coverage' && !listEl.dataset.coverageWired) {
      listEl.dataset.coverageWired = '1';
      document.addEventListener('gridplan:coverage', () => renderLegends(listEl));
    }
    row.append(cb, label);
    const slot = document.createElement('div');
    slot.className = 'legend-slot';
    slot.id = 'legend-' + id;
    listEl.append(row, slot);
  }
  renderLegends(listEl);
}

function isOn(id) {
  return id === 'coverage' ? coverageOn : map.hasLayer(tileLayers[id]);
}

export function setLayer(id, on) {
  if (id === 'coverage') {
    coverageOn = on;
    if (on) refreshCoverage(); else if (coverageLayer) { map.removeLayer(coverageLayer); coverageLayer = null; }
    return;
  }
  const layer = tileLayers[id];
  if (on && !map.hasLayer(layer)) layer.addTo(map);
  if (!on && map.hasLayer(layer)) map.removeLayer(layer);
}

// Each switched-on coloured layer shows its legend right under its switch.
export async function renderLegends(listEl) {
  await loadStyle();
  for (const id of LAYER_ORDER) {
    const slot = listEl.querySelector('#legend-' + id);
    if (!slot) continue;
    const rows = id !== 'default' && isOn(id) ? legendRows(id) : null;
    const nodes = rows ? [legendElement(id, rows)] : [];
    if (id === 'coverage' && rows && coverageCircles().length) nodes.unshift(coverageCirclePicker());
    if (id === 'coverage' && rows && !(coverageData && coverageData.version === version)) {
      // Until the city's coverage arrives (about 1.5 s after an edit) the switch says so.
      const p = document.createElement('p');
      p.className = 'hint legend';
      p.textContent = t('loading');
      nodes.splice(0, nodes.length, p);
    }
    slot.replaceChildren(...nodes);
  }
}

// Which circle the coverage-gap colours measure.
function coverageCirclePicker() {
  const wrap = document.createElement('div');
  wrap.className = 'row legend-control';
  const label = document.createElement('label');
  label.htmlFor = 'coverage-circle';
  label.textContent = t('coverageCircle');
  const sel = document.createElement('select');
  sel.id = 'coverage-circle';
  for (const c of coverageCircles()) {
    const o = document.createElement('option');
    o.value = c;
    o.textContent = circleLabel(c);
    o.selected = c === coverageCircle;
    sel.appendChild(o);
  }
  sel.addEventListener('change', () => setCoverageCircle(sel.value));
  const mode = document.createElement('span');
  mode.className = 'hint';
  mode.textContent = t('mode_' + coverageMode());
  wrap.append(label, sel, mode);
  return wrap;
}

export function circleLabel(id) {
  const s = t('circ_' + id);
  return s === 'circ_' + id ? id : s;
}

// New data version (the newest changeset id): every tile layer reloads from URLs that no cache has.
export function setDataVersion(v) {
  const nv = String(v ?? Date.now());
  if (nv === version) return;
  version = nv;
  if (!map) return;
  for (const id of Object.keys(tileLayers)) tileLayers[id].setUrl(tileUrl(id));
  if (coverageOn) refreshCoverage();
}
export function dataVersion() { return version; }

// Coverage gaps: communities coloured by the share of households a chosen service circle misses,
// from the server's computed `coverage` collection (properties <circle>_share, one feature per
// community and mode). Fetched whole once per data version; the circle is picked in the panel.
let coverageData = null;       // {version, fc, circles: [ids], mode}
let coverageCircle = '';

let coveragePending = null;   // {version, promise}: one whole-city request per data version

async function loadCoverage() {
  if (coverageData && coverageData.version === version) return coverageData;
  if (!coveragePending || coveragePending.version !== version) {
    coveragePending = { version, promise: fetchCoverage(version) };
  }
  return coveragePending.promise;
}

async function fetchCoverage(v) {
  const fc = await api.get('collections/coverage/items?limit=10000');
  const feats = (fc && fc.features) || [];
  const mode = feats.length ? feats[0].properties.mode : undefined;
  const one = feats.filter((f) => f.properties.mode === mode);
  const circles = one.length ? Object.keys(one[0].properties).filter((k) => k.endsWith('_share')).map((k) => k.slice(0, -6)) : [];
  coverageData = { version: v, fc: { type: 'FeatureCollection', features: one }, circles, mode };
  return coverageData;
}

export function coverageCircles() { return coverageData ? coverageData.circles : []; }
export function coverageMode() { return coverageData ? coverageData.mode : ''; }
export function getCoverageCircle() { return coverageCircle; }
export function setCoverageCircle(id) { coverageCircle = id; if (coverageOn) refreshCoverage(); }

async function refreshCoverage() {
  let data;
  try {
    data = await loadCoverage();
  } catch (e) {
    console.warn('coverage layer unavailable:', e.message);
    return;
  }
  if (!coverageOn) return;
  if (!data.circles.includes(coverageCircle)) coverageCircle = data.circles.includes('life_15min') ? 'life_15min' : (data.circles[0] || '');
  document.dispatchEvent(new CustomEvent('gridplan:coverage', { detail: data }));
  if (coverageLayer) map.removeLayer(coverageLayer);
  const key = coverageCircle + '_share';
  coverageLayer = L.geoJSON(data.fc, {
    pane: 'gp-coverage',
    interactive: false,
    style: (f) => {
      const share = f.properties[key];
      const c = coverageColour(typeof share === 'number' ? 1 - share : null);
      return c ? { color: '#7f2704', weight: 1, fillColor: c, fillOpacity: COVERAGE_OPACITY }
        : { color: '#999', weight: 0.5, fill: false };
    },
  }).addTo(map);
}

export function showSelection(geojson) {
  if (selectionLayer) map.removeLayer(selectionLayer);
  selectionLayer = null;
  if (!geojson) return;
  selectionLayer = L.geoJSON(geojson, {
    pane: 'gp-select', interactive: false,
    // Outline only: a tinted fill would change the thematic colour the legend explains.
    style: { color: '#00e5ff', weight: 3.5, fill: false },
  }).addTo(map);
}

const PART_COLOURS = ['#e41a1c', '#377eb8', '#4daf4a', '#984ea3', '#ff7f00', '#a65628', '#f781bf', '#999999'];

export function showPreview(fc) {
  clearPreview();
  if (!fc) return;
  let i = 0;
  previewLayer = L.geoJSON(fc, {
    pane: 'gp-preview', interactive: false,
    style: () => {
      const c = PART_COLOURS[i++ % PART_COLOURS.length];
      return { color: c, weight: 2.5, dashArray: '6 4', fillColor: c, fillOpacity: 0.3 };
    },
  }).addTo(map);
  const b = previewLayer.getBounds();
  if (b.isValid()) fitToShow(b, map.getZoom() > 15 ? map.getZoom() : 16);
}
export function clearPreview() {
  if (previewLayer) map.removeLayer(previewLayer);
  previewLayer = null;
}
export function partColour(i) { return PART_COLOURS[i % PART_COLOURS.length]; }

export function onMoveEnd(fn) { map.on('moveend', fn); }
