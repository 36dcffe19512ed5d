// legends.js — legend entries for every coloured layer. The colours must be the server's: the
// render module keeps them in geodata/styles/<layer>.json; loadServerStyle() reads that file from the
// server when it is served and turns its classes into legend rows, and FALLBACK is used otherwise
// (kept equal to the styles as committed; see README "Web map").
import { t, getLang } from './i18n.js';

// label: [zh, en]; swatch: fill colour, optional stroke; kind: 'fill' | 'line' | 'point'.
export const FALLBACK = {
  communities: [
    { label: ['偏小（低于标准下限）', 'under the band'], fill: '#9ecae1', stroke: '#3182bd' },
    { label: ['符合标准', 'within the band'], fill: '#a1d99b', stroke: '#31a354' },
    { label: ['偏大（高于标准上限）', 'over the band'], fill: '#fdae6b', stroke: '#e6550d' },
    { label: ['超过拆分线', 'over the split line'], fill: '#fc9272', stroke: '#de2d26' },
  ],
  grids: [
    { label: ['网格边界与编码', 'grid boundary and code'], fill: 'transparent', stroke: '#6a51a3', kind: 'line' },
  ],
  buildings: [
    { label: ['楼栋', 'building'], fill: '#bdbdbd', stroke: '#636363' },
  ],
  facilities: [
    { label: ['便民服务', 'convenience services'], fill: '#1f78b4', kind: 'point' },
    { label: ['卫生医疗', 'health'], fill: '#e31a1c', kind: 'point' },
    { label: ['文化体育', 'culture and fitness'], fill: '#33a02c', kind: 'point' },
    { label: ['微型消防站', 'micro fire station'], fill: '#ff7f00', kind: 'point' },
    { label: ['其他', 'other'], fill: '#6a3d9a', kind: 'point' },
  ],
  circles: [
    { label: ['5 分钟圈', '5-minute circle'], fill: 'rgba(44,162,95,0.25)', stroke: '#2ca25f' },
    { label: ['10 分钟圈', '10-minute circle'], fill: 'rgba(49,130,189,0.2)', stroke: '#3182bd' },
    { label: ['15 分钟圈', '15-minute circle'], fill: 'rgba(117,107,177,0.15)', stroke: '#756bb1' },
    { label: ['消防站 3 分钟圈', 'fire station 3-minute reach'], fill: 'rgba(230,85,13,0.2)', stroke: '#e6550d' },
  ],
  police: [
    { label: ['2 名辅警', '2 auxiliary officers'], fill: '#fee5d9' },
    { label: ['3 名辅警', '3 auxiliary officers'], fill: '#fcae91' },
    { label: ['4 名辅警', '4 auxiliary officers'], fill: '#fb6a4a' },
    { label: ['5 名及以上', '5 or more'], fill: '#cb181d' },
  ],
  // Drawn in the browser from the coverage collection (no tile layer): share of households
  // outside every service circle.
  coverage: [
    { label: ['未覆盖 < 10%', 'uncovered < 10%'], fill: 'rgba(0,0,0,0)', stroke: '#999999' },
    { label: ['未覆盖 10–30%', 'uncovered 10–30%'], fill: '#fdd49e' },
    { label: ['未覆盖 30–60%', 'uncovered 30–60%'], fill: '#fc8d59' },
    { label: ['未覆盖 ≥ 60%', 'uncovered ≥ 60%'], fill: '#d7301f' },
  ],
};

export function coverageColour(uncovered) {
  if (uncovered === null || uncovered === undefined || Number.isNaN(uncovered)) return null;
  if (uncovered < 0.1) return null;
  if (uncovered < 0.3) return FALLBACK.coverage[1].fill;
  if (uncovered < 0.6) return FALLBACK.coverage[2].fill;
  return FALLBACK.coverage[3].fill;
}

const serverStyles = {};

// Reads a server style file if the server publishes one; resolves to legend rows or null.
export async function loadServerStyle(layer) {
  if (layer in serverStyles) return serverStyles[layer];
  serverStyles[layer] = null;
  try {
    const res = await fetch(`styles/${layer}.json`, { headers: { Accept: 'application/json' } });
    if (res.ok && (res.headers.get('content-type') || '').includes('json')) {
      serverStyles[layer] = styleToLegend(await res.json());
    }
  } catch {
    // The style endpoint is optional; the fallback table stands in.
  }
  return serverStyles[layer];
}

// A style file lists classes as [{label|name, label_en?, fill, stroke}] under "classes" (or "rules").
function styleToLegend(style) {
  const classes = style && (style.classes || style.rules || style.legend);
  if (!Array.isArray(classes) || classes.length === 0) return null;
  return classes.map((c) => ({
    label: [c.label_zh || c.label || c.name || c.title || '', c.label_en || c.label || c.name || c.title || ''],
    fill: c.fill || c.fill_color || c.color || 'transparent',
    stroke: c.stroke || c.stroke_color || c.line_color,
    kind: c.kind || (c.radius ? 'point' : undefined),
  }));
}

export function legendElement(layer, rows) {
  const box = document.createElement('div');
  box.className = 'legend';
  box.dataset.layer = layer;
  const h = document.createElement('h4');
  h.textContent = t('layer_' + layer);
  box.appendChild(h);
  const ul = document.createElement('ul');
  const li = getLang() === 'zh' ? 0 : 1;
  for (const r of rows) {
    const item = document.createElement('li');
    const sw = document.createElement('span');
    sw.className = 'swatch ' + (r.kind || 'fill');
    sw.style.background = r.kind === 'line' ? 'transparent' : r.fill;
    if (r.stroke) sw.style.borderColor = r.stroke;
    sw.setAttribute('aria-hidden', 'true');
    item.appendChild(sw);
    item.appendChild(document.createTextNode(r.label[li]));
    ul.appendChild(item);
  }
  box.appendChild(ul);
  return box;
}
