// police.js — the Police view: 民警/辅警 allocation per community or per street from /api/police,
// sortable by any column (click or Enter on the header), with totals and the server's CSV download.
import { api } from './api.js';
import { t, fmtNum } from './i18n.js';

let data = null;
let mode = 'communities';
let sort = { key: 'code', dir: 1 };
const $ = (id) => document.getElementById(id);

const COLUMNS = {
  communities: [
    // Name first and street last: on a phone the code, street and population columns are hidden
    // (app.css) so the 民警/辅警 columns fit without scrolling; the CSV and the wide table have them.
    { key: 'name', label: 'name' }, { key: 'code', label: 'code', narrowHide: true },
    { key: 'households', label: 'households', num: true }, { key: 'population', label: 'population', num: true, narrowHide: true },
    { key: 'minjing', label: 'minjingCol', num: true, total: true }, { key: 'fujing', label: 'fujingCol', num: true, total: true },
    { key: 'street_code', label: 'street', narrowHide: true },
  ],
  streets: [
    { key: 'street_code', label: 'code' }, { key: 'street_name', label: 'name' },
    { key: 'communities', label: 'communities', num: true, total: true },
    { key: 'households', label: 'households', num: true, total: true },
    { key: 'minjing', label: 'minjingCol', num: true, total: true }, { key: 'fujing', label: 'fujingCol', num: true, total: true },
  ],
};

// /api/police answers {communities:[...], streets:[...]} (or a bare array of communities, whose
// street totals are then summed here).
function normalise(raw) {
  const communities = Array.isArray(raw) ? raw : (raw.communities || raw.items || []);
  let streets = Array.isArray(raw) ? null : (raw.streets || null);
  if (!streets) {
    const by = new Map();
    for (const c of communities) {
      const s = by.get(c.street_code) || { street_code: c.street_code, street_name: c.street_name || '', communities: 0, households: 0, minjing: 0, fujing: 0 };
      s.communities += 1;
      s.households += c.households || 0;
      s.minjing += c.minjing || 0;
      s.fujing += c.fujing || 0;
      by.set(c.street_code, s);
    }
    streets = [...by.values()];
  }
  streets = streets.map((s) => ({ ...s, street_code: s.street_code ?? s.code, street_name: s.street_name ?? s.name }));
  if (Array.isArray(raw)) return { communities, streets, rule: null };
  return { communities, streets, rule: { profile: raw.profile, rounding: raw.rounding, ...(raw.rule && typeof raw.rule === 'object' ? raw.rule : raw.rule ? { rule: raw.rule } : {}) } };
}

// The allocation rule in the page's language: a sentence when the server sends the usual numbers,
// else its keys and values as they are.
function ruleText(r) {
  if (!r) return '';
  const known = ['min_minjing', 'fujing_base', 'fujing_base_households', 'fujing_step_households'];
  if (known.every((k) => typeof r[k] === 'number')) {
    return t('policeRuleText', {
      profile: r.profile || '—', minjing: fmtNum(r.min_minjing), base: fmtNum(r.fujing_base),
      baseHh: fmtNum(r.fujing_base_households), step: fmtNum(r.fujing_step_households),
      rounding: t('rounding_' + (r.rounding || 'ceil')),
    });
  }
  const parts = Object.entries(r).filter(([, v]) => v !== undefined && v !== null).map(([k, v]) => `${k} ${v}`);
  return parts.length ? t('policeRule', { rule: parts.join(' · ') }) : '';
}

export async function loadPolice() {
  try {
    data = normalise(await api.police());
  } catch (e) {
    $('police-note').textContent = t('error', { msg: e.message });
    $('police-note').className = 'hint error';
    return;
  }
  render();
}

export function initPolice() {
  $('police-mode').addEventListener('change', (ev) => {
    mode = ev.target.value;
    sort = { key: mode === 'streets' ? 'street_code' : 'code', dir: 1 };
    render();
  });
  document.addEventListener('gridplan:changed', () => { if (data) loadPolice(); });
}

export function render() {
  if (!data) return;
  $('police-note').className = 'hint';
  $('police-note').textContent = ruleText(data.rule);
  const rows = (mode === 'streets' ? data.streets : data.communities).slice();
  // A text column no row fills (street names when the data has none) is left out.
  const cols = COLUMNS[mode].filter((c) => c.num || rows.some((r) => r[c.key] !== undefined && r[c.key] !== null && r[c.key] !== ''));
  const col = cols.find((c) => c.key === sort.key) || cols[0];
  rows.sort((a, b) => {
    const x = a[col.key];
    const y = b[col.key];
    if (col.num) return ((x ?? -Infinity) - (y ?? -Infinity)) * sort.dir;
    return String(x ?? '').localeCompare(String(y ?? ''), 'zh-CN') * sort.dir;
  });
  const table = $('police-table');
  const hr = document.createElement('tr');
  for (const c of cols) {
    const th = document.createElement('th');
    th.scope = 'col';
    if (c.narrowHide) th.className = 'narrow-hide';
    const active = c.key === col.key;
    th.setAttribute('aria-sort', active ? (sort.dir > 0 ? 'ascending' : 'descending') : 'none');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'sort';
    b.dataset.key = c.key;
    b.textContent = t(c.label) + (active ? (sort.dir > 0 ? ' ▲' : ' ▼') : '');
    b.title = `${t(c.label === 'minjingCol' ? 'minjing' : c.label === 'fujingCol' ? 'fujing' : c.label)}: ${t('sortBy')}`;
    b.addEventListener('click', () => {
      sort = { key: c.key, dir: sort.key === c.key ? -sort.dir : (c.num ? -1 : 1) };
      render();
      const again = table.querySelector(`button.sort[data-key="${c.key}"]`);
      if (again) again.focus();
    });
    th.appendChild(b);
    hr.appendChild(th);
  }
  table.tHead.replaceChildren(hr);
  const body = table.tBodies[0];
  body.replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    tr.dataset.code = r.code || r.street_code;
    for (const c of cols) {
      const td = document.createElement('td');
      td.textContent = c.num ? fmtNum(r[c.key]) : (r[c.key] ?? '');
      td.className = [c.num ? 'num' : '', c.narrowHide ? 'narrow-hide' : ''].join(' ').trim();
      tr.appendChild(td);
    }
    return tr;
  }));
  const fr = document.createElement('tr');
  cols.forEach((c, i) => {
    const td = document.createElement(i === 0 ? 'th' : 'td');
    if (i === 0) { td.scope = 'row'; td.textContent = `${t('total')} (${rows.length})`; }
    if (c.narrowHide) td.className = 'narrow-hide';
    if (i > 0 && (c.total || (mode === 'communities' && c.num))) {
      td.className = 'num' + (c.narrowHide ? ' narrow-hide' : '');
      td.textContent = fmtNum(rows.reduce((s, r) => s + (Number(r[c.key]) || 0), 0));
    }
    fr.appendChild(td);
  });
  table.tFoot.replaceChildren(fr);
}
