// legends.js — legend rows for every coloured layer, made from the server's own tile style
// (geodata/styles/default.json, copied to web/vendor/styles/ by `make web`), so a legend colour is
// the colour the tiles are drawn with. The community classes are labelled with the active profile's
// band from /api/profile (the style's band when the profile is not available). Coverage gaps are
// drawn in the browser, so their colours live here.
import { api } from './api.js';
import { t } from './i18n.js';

let style = null;
let band = null;

// Loads the style and the profile band once; later calls reuse them.
export async function loadStyle() {
  if (style) return style;
  try {
    const res = await fetch('vendor/styles/default.json');
    style = res.ok ? await res.json() : {};
  } catch {
    style = {};
  }
  band = style.band ? { min: style.band.min, max: style.band.max, split: style.band.split_above } : null;
  try {
    const p = await api.profile();
    const b = profileBand(p);
    if (b) band = b;
  } catch {
    // No profile endpoint: the style's band stands.
  }
  return style;
}

function leaf(v) { return v && typeof v === 'object' && 'value' in v ? v.value : v; }

// /api/profile gives the merged profile (leaves {value, source}), possibly under "profile", or a
// flat list of {path, value}.
export function profileBand(p) {
  if (!p) return null;
  const find = (key) => {
    if (Array.isArray(p.values)) {
      const hit = p.values.find((x) => x.path === 'community.' + key);
      if (hit) return hit.value;
    }
    const root = p.profile || p;
    return root.community ? leaf(root.community[key]) : undefined;
  };
  const min = find('band_min');
  const max = find('band_max');
  if (typeof min !== 'number' || typeof max !== 'number') return null;
  const split = find('split_above');
  return { min, max, split: typeof split === 'number' ? split : max };
}

export function getBand() { return band; }

// An #rrggbbaa colour with its alpha dropped: the stroke of a translucent fill.
function opaque(c) { return typeof c === 'string' && c.length === 9 ? c.slice(0, 7) : c; }

const COVERAGE = [
  { max: 0.1, fill: null },
  { max: 0.3, fill: '#fdd49e' },
  { max: 0.6, fill: '#fc8d59' },
  { max: Infinity, fill: '#d7301f' },
];

export const COVERAGE_OPACITY = 0.65;
const COVERAGE_ALPHA = Math.round(COVERAGE_OPACITY * 255).toString(16).padStart(2, '0');

export function coverageColour(uncovered) {
  if (uncovered === null || uncovered === undefined || Number.isNaN(uncovered)) return null;
  return COVERAGE.find((c) => uncovered < c.max).fill;
}

// Legend rows {label, fill, stroke, kind} for one layer, or null when the style has no entry.
export function legendRows(layer) {
  const s = style || {};
  const n = (x) => Number(x).toLocaleString();
  switch (layer) {
    case 'communities': {
      const f = s.communities && s.communities.fill;
      if (!f) return null;
      const b = band || {};
      const stroke = s.communities.outline;
      return [
        { label: t('cls_under', { min: n(b.min) }), fill: f.under, stroke },
        { label: t('cls_within', { min: n(b.min), max: n(b.max) }), fill: f.within, stroke },
        { label: t('cls_over', { max: n(b.max), split: n(b.split) }), fill: f.over, stroke },
        { label: t('cls_split', { split: n(b.split) }), fill: f.split, stroke },
      ];
    }
    case 'police': {
      const p = s.police;
      if (!p || !Array.isArray(p.colours)) return null;
      return p.colours.map((c, i) => ({
        label: t(i === p.colours.length - 1 ? 'cls_fujing_more' : 'cls_fujing', { n: p.first + i }),
        fill: c, stroke: p.outline,
      }));
    }
    case 'grids':
      return s.grids ? [{ label: t('cls_grid'), fill: 'transparent', stroke: s.grids.outline, kind: 'line' }] : null;
    case 'buildings':
      return s.buildings ? [{ label: t('cls_building'), fill: s.buildings.fill, stroke: s.buildings.outline }] : null;
    case 'facilities':
    case 'circles': {
      const sec = s[layer];
      if (!sec || !sec.types) return null;
      const rows = Object.entries(sec.types).map(([type, c]) => ({
        label: t('type_' + type) === 'type_' + type ? type : t('type_' + type),
        fill: c, stroke: layer === 'circles' ? opaque(c) : sec.outline, kind: layer === 'facilities' ? 'point' : 'fill',
      }));
      if (sec.default) rows.push({ label: t('type_other'), fill: sec.default, stroke: opaque(sec.default), kind: layer === 'facilities' ? 'point' : 'fill' });
      return rows;
    }
    case 'coverage':
      // The map draws these fills at COVERAGE_OPACITY over the background: so does the swatch.
      return [1, 2, 3].map((i) => ({ label: t('cls_cov' + i), fill: COVERAGE[i].fill + COVERAGE_ALPHA, stroke: '#7f2704' }));
    default:
      return null;
  }
}

export function legendElement(layer, rows) {
  const box = document.createElement('div');
  box.className = 'legend';
  box.dataset.layer = layer;
  box.setAttribute('aria-label', `${t('legend')}: ${t('layer_' + layer)}`);
  const ul = document.createElement('ul');
  for (const r of rows) {
    const item = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch ' + (r.kind || 'fill');
    sw.style.background = r.kind === 'line' ? 'transparent' : r.fill;
    if (r.stroke) sw.style.borderColor = r.stroke;
    sw.setAttribute('aria-hidden', 'true');
    item.appendChild(sw);
    item.appendChild(document.createTextNode(r.label));
    ul.appendChild(item);
  }
  box.appendChild(ul);
  return box;
}
