// plan.js — the Plan panel: planner token, split / merge / grid-division previews drawn on the map
// with their quality report, apply, undo and the history list. After every apply or undo the tile
// layers move to the new data version and the numbers panel is refreshed, without a page reload.
import { api, getToken, setToken } from './api.js';
import { t, fmtNum, getLang } from './i18n.js';
import { selection, inspectAt, onSelect } from './inspect.js';
import { showPreview, clearPreview, setDataVersion, partColour } from './map.js';

let pending = null;          // {op, community, into?, parts?, name}
let mergePicking = false;
let mergeInto = null;        // {code, name}
const $ = (id) => document.getElementById(id);

export function isMergePicking() { return mergePicking; }

// Called by main.js for a map click while picking the merge partner.
export function pickMergeTarget(feature) {
  setMergePicking(false);
  if (!feature) return;
  if (selection.community && feature.properties.code === selection.community.properties.code) return;
  mergeInto = { code: feature.properties.code, name: feature.properties.name };
  $('merge-into').textContent = `${mergeInto.name} (${mergeInto.code})`;
}

function setMergePicking(on) {
  mergePicking = on;
  const b = $('merge-pick');
  b.setAttribute('aria-pressed', String(on));
  b.textContent = on ? t('mergePicking') : t('mergePick');
  document.getElementById('map').classList.toggle('picking', on);
}

function message(text, kind) {
  const m = $('plan-msg');
  m.textContent = text;
  m.className = 'msg ' + (kind || '');
}

// Also called on a language switch: the token line is written here, not by data-i18n.
export function tokenState() {
  $('token-state').textContent = getToken() ? t('tokenSaved') : t('tokenNone');
  $('preview-apply').disabled = !getToken();
  $('undo').disabled = !getToken();
}

function selectedCode() {
  return selection.community ? selection.community.properties.code : null;
}

function selectedName() {
  const c = selection.community;
  return c ? `${c.properties.name} (${c.properties.code})` : '—';
}

export function initPlan() {
  $('token').value = getToken();
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    setToken($('token').value);
    tokenState();
    refreshHistory();
  });
  tokenState();
  onSelect(() => {
    $('plan-selected').textContent = selectedName();
    if (!mergePicking) { mergeInto = null; $('merge-into').textContent = '—'; }
  });
  $('split-preview').addEventListener('click', () => {
    const k = $('split-k').value;
    preview({ op: 'split', parts: k ? Number(k) : null });
  });
  $('merge-pick').addEventListener('click', () => {
    if (!selectedCode()) { message(t('needSelect'), 'error'); return; }
    setMergePicking(!mergePicking);
  });
  $('merge-preview').addEventListener('click', () => preview({ op: 'merge', into: mergeInto && mergeInto.code }));
  $('grids-preview').addEventListener('click', () => preview({ op: 'grids' }));
  $('preview-apply').addEventListener('click', apply);
  $('preview-cancel').addEventListener('click', cancel);
  $('undo').addEventListener('click', () => undo(null));
  refreshHistory();
}

function call(p, doApply) {
  if (p.op === 'split') return api.split(p.community, p.parts, doApply);
  if (p.op === 'merge') return api.merge(p.community, p.into, doApply);
  return api.grids(p.community, doApply);
}

async function preview(p) {
  const code = selectedCode();
  if (!code) { message(t('needSelect'), 'error'); return; }
  pending = { ...p, community: code, name: selectedName() };
  message(t('loading'));
  try {
    const res = await call(pending, false);
    message('');
    const title = { split: 'previewSplit', merge: 'previewMerge', grids: 'previewGrids' }[p.op];
    $('preview-title').textContent = t(title, { name: pending.name });
    $('preview-body').replaceChildren(...resultNodes(res));
    $('preview').hidden = false;
    tokenState();
    showPreview(res && res.features);
  } catch (e) {
    pending = null;
    $('preview').hidden = true;
    clearPreview();
    message(t('error', { msg: e.message }), 'error');
  }
}

async function apply() {
  if (!pending) return;
  if (!getToken()) { message(t('needToken'), 'error'); return; }
  const p = pending;
  $('preview-apply').disabled = true;
  try {
    const res = await call(p, true);
    pending = null;
    $('preview').hidden = true;
    clearPreview();
    message(t('applied', { id: res.changeset }), 'ok');
    await afterChange(res.changeset);
  } catch (e) {
    message(t('error', { msg: e.message }), 'error');
  } finally {
    tokenState();
  }
}

function cancel() {
  pending = null;
  $('preview').hidden = true;
  clearPreview();
  message('');
}

async function undo(id) {
  if (!getToken()) { message(t('needToken'), 'error'); return; }
  try {
    const res = id ? await api.undo(id) : await api.undoLast();
    cancel();
    message(t('undoneMsg', { id: res.changeset }), 'ok');
    await afterChange(res.changeset);
  } catch (e) {
    message(t('error', { msg: e.message }), 'error');
  }
}

// New tiles, new numbers for the place last clicked, new history: no reload.
async function afterChange(changeset) {
  setDataVersion(changeset);
  document.dispatchEvent(new CustomEvent('gridplan:changed', { detail: { changeset } }));
  await refreshHistory();
  if (selection.lngLat) await inspectAt(selection.lngLat);
}

export async function refreshHistory() {
  const ol = $('history');
  let list;
  try {
    list = await api.history();
  } catch (e) {
    ol.replaceChildren(li(t('error', { msg: e.message }), 'error'));
    return null;
  }
  if (!Array.isArray(list)) list = (list && list.changesets) || [];
  if (!list.length) { ol.replaceChildren(li(t('historyEmpty'), 'hint')); return list; }
  ol.replaceChildren(...list.slice(0, 50).map(historyItem));
  return list;
}

function li(text, cls) {
  const e = document.createElement('li');
  e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// A changeset summary is a JSON object written by the operation ({"community":..,"parts":..}):
// shown as "key value" pairs in the page's language (unknown keys as they are), arrays joined.
function summaryText(sum) {
  if (sum === null || sum === undefined) return '';
  if (typeof sum !== 'object') return String(sum);
  return Object.entries(sum)
    .filter(([, v]) => v === null || typeof v !== 'object' || Array.isArray(v))
    .map(([k, v]) => `${tOr('sum_' + k, k)} ${Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? JSON.stringify(x) : x)).join(', ') : String(v).replace(/,/g, ', ')}`)
    .join(' · ');
}

// t(key) when the key has a string, else the fallback (operation names and summary keys come from
// the server and may be new).
function tOr(key, fallback) {
  const s = t(key);
  return s === key ? fallback : s;
}

// Today's changes show the time only; older ones the date without the year too.
function whenText(ts) {
  const d = new Date(typeof ts === 'number' ? ts * 1000 : String(ts).replace(' ', 'T') + (/Z|[+-]\d\d:?\d\d$/.test(ts) ? '' : 'Z'));
  if (Number.isNaN(+d)) return String(ts);
  const loc = getLang() === 'zh' ? 'zh-CN' : 'en-GB';
  const time = d.toLocaleTimeString(loc, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  if (d.toDateString() === new Date().toDateString()) return time;
  return `${d.toLocaleDateString(loc, { month: '2-digit', day: '2-digit' })} ${time}`;
}

function historyItem(h) {
  const e = document.createElement('li');
  e.dataset.id = h.id;
  const summary = h.undo_of ? t('undoOf', { id: h.undo_of }) : summaryText(h.summary);
  const head = document.createElement('span');
  head.className = 'h-head';
  head.textContent = `#${h.id} ${tOr('op_' + h.op, h.op)}${h.user ? ' · ' + h.user : ''}${h.ts ? ' · ' + whenText(h.ts) : ''}`;
  const body = document.createElement('span');
  body.className = 'h-summary';
  body.textContent = summary;
  e.append(head, body);
  if (h.undone_by) {
    e.classList.add('undone');
    const u = document.createElement('span');
    u.className = 'h-undone';
    u.textContent = t('undone', { id: h.undone_by });
    e.appendChild(u);
  } else if (getToken()) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'small';
    b.textContent = t('undoThis');
    b.setAttribute('aria-label', `${t('undoThis')} #${h.id}`);
    b.addEventListener('click', () => undo(h.id));
    e.appendChild(b);
  }
  return e;
}

// The quality report: scalars as a list, arrays of rows as tables; part rows get the colour
// their part has on the map.
function resultNodes(res) {
  const nodes = [];
  const q = (res && res.quality) || {};
  const h = document.createElement('h4');
  h.textContent = t('quality');
  nodes.push(h);
  const scalars = Object.entries(q).filter(([, v]) => v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => typeof x !== 'object')));
  if (scalars.length) {
    const d = document.createElement('dl');
    d.className = 'numbers quality';
    for (const [k, v] of scalars) {
      const dt = document.createElement('dt');
      dt.textContent = t('q_' + k) === 'q_' + k ? k : t('q_' + k);
      const dd = document.createElement('dd');
      dd.dataset.key = k;
      if (Array.isArray(v)) dd.textContent = v.map((x) => fmtNum(x, 3)).join('–');
      else if (typeof v === 'boolean') dd.textContent = v ? t('yes') : t('no');
      else dd.textContent = typeof v === 'number' ? fmtNum(v, 3) : String(v);
      d.append(dt, dd);
    }
    nodes.push(d);
  }
  for (const [k, v] of Object.entries(q)) {
    if (Array.isArray(v) && v.length && typeof v[0] === 'object') nodes.push(rowsTable(k, v, true));
    else if (v && typeof v === 'object' && !Array.isArray(v)) nodes.push(rowsTable(k, [v], false));
  }
  const feats = res && res.features && res.features.features;
  if (feats && feats.length && !Array.isArray(q.parts)) {
    nodes.push(rowsTable(t('part'), feats.map((f) => f.properties || {}), true));
  }
  return nodes;
}

function rowsTable(caption, rows, coloured) {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r).filter((k) => typeof r[k] !== 'object' || r[k] === null)))];
  const table = document.createElement('table');
  table.className = 'quality-table';
  const cap = document.createElement('caption');
  cap.textContent = caption;
  const thead = document.createElement('thead');
  const tr = document.createElement('tr');
  if (coloured) tr.appendChild(document.createElement('th'));
  cols.forEach((c) => { const th = document.createElement('th'); th.scope = 'col'; th.textContent = c; tr.appendChild(th); });
  thead.appendChild(tr);
  const tbody = document.createElement('tbody');
  rows.forEach((r, i) => {
    const row = document.createElement('tr');
    if (coloured) {
      const td = document.createElement('td');
      const sw = document.createElement('span');
      sw.className = 'swatch fill';
      sw.style.background = partColour(i);
      sw.setAttribute('aria-hidden', 'true');
      td.appendChild(sw);
      row.appendChild(td);
    }
    cols.forEach((c) => {
      const td = document.createElement('td');
      const v = r[c];
      td.textContent = typeof v === 'number' ? fmtNum(v, 3) : (v ?? '');
      row.appendChild(td);
    });
    tbody.appendChild(row);
  });
  table.append(cap, thead, tbody);
  return table;
}
