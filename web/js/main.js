// main.js — starts the page: strings, map, panel tabs, and the wiring between map clicks, the
// Inspect panel and the Plan panel. window.gridplan exposes the map for the e2e test.
import { api } from './api.js';
import { applyStrings, setLang, getLang } from './i18n.js';
import { initMap, fitToData, buildLayerPanel, setDataVersion, dataVersion } from './map.js';
import { inspectAt, initSearch, selection } from './inspect.js';
import { initPlan, isMergePicking, pickMergeTarget, refreshHistory, tokenState } from './plan.js';
import { initPolice, loadPolice, render as renderPolice } from './police.js';
import { featureAt } from './geo.js';

const $ = (id) => document.getElementById(id);

function initTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const show = (tab, focus) => {
    for (const tb of tabs) {
      const on = tb === tab;
      tb.setAttribute('aria-selected', String(on));
      tb.tabIndex = on ? 0 : -1;
      $(tb.getAttribute('aria-controls')).hidden = !on;
    }
    $('panel').classList.toggle('wide', tab.id === 'tab-police');
    if (focus) tab.focus();
    if (tab.id === 'tab-police') loadPolice();
    if (tab.id === 'tab-plan') refreshHistory();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => show(tab, false));
    tab.addEventListener('keydown', (ev) => {
      let j = null;
      if (ev.key === 'ArrowRight') j = (i + 1) % tabs.length;
      else if (ev.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
      else if (ev.key === 'Home') j = 0;
      else if (ev.key === 'End') j = tabs.length - 1;
      if (j !== null) { ev.preventDefault(); show(tabs[j], true); }
    });
  });
  return (id) => show($(id), false);
}

function initPanelToggle() {
  const btn = $('panel-toggle');
  const panel = $('panel');
  const narrow = window.matchMedia('(max-width: 700px)');
  const set = (open) => {
    if (panel.classList.contains('closed') !== open) return;
    panel.classList.toggle('closed', !open);
    btn.setAttribute('aria-expanded', String(open));
    setTimeout(() => window.gridplan.map.invalidateSize(), 220);
  };
  if (narrow.matches) {
    panel.classList.add('closed');
    btn.setAttribute('aria-expanded', 'false');
  }
  btn.addEventListener('click', () => set(panel.classList.contains('closed')));
  return set;
}

async function main() {
  applyStrings();
  // The data version goes into every tile URL; know it before the first tile is asked for.
  try {
    const hist = await api.get('api/history?limit=1');
    setDataVersion(Array.isArray(hist) && hist.length ? hist[0].id : 0);
  } catch {
    setDataVersion(0);
  }
  const map = initMap($('map'));
  window.gridplan = { map, selection, dataVersion };
  const showTab = initTabs();
  const setPanel = initPanelToggle();
  buildLayerPanel($('layer-list'));
  initPlan();
  initPolice();
  const openInspect = () => { showTab('tab-inspect'); setPanel(true); };
  initSearch($('search'), $('search-q'), $('search-results'), openInspect);

  map.on('click', async (ev) => {
    if (isMergePicking()) {
      const r = 0.0001;
      const fc = await api.featuresNear('communities', ev.latlng.lng, ev.latlng.lat, r).catch(() => null);
      pickMergeTarget(featureAt(fc, ev.latlng.lng, ev.latlng.lat));
      return;
    }
    if ($('view-plan').hidden) showTab('tab-inspect');
    setPanel(true);
    await inspectAt(ev.latlng);
  });
  // Keyboard users: Enter on the focused map inspects its centre.
  $('map').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && ev.target === $('map')) inspectAt(map.getCenter());
  });

  $('lang').addEventListener('click', () => {
    setLang(getLang() === 'zh' ? 'en' : 'zh');
    buildLayerPanel($('layer-list'));
    renderPolice();   // the table's data does not depend on the language: redraw at once, no request
    refreshHistory();
    tokenState();
    if (selection.lngLat) inspectAt(selection.lngLat);
  });
  await fitToData();
  document.body.dataset.ready = '1';

  // Someone else's edit (another planner, the CLI) also moves the data version: look every 20 s
  // while the page is visible, so tiles from before that edit do not linger.
  let polling = false;
  setInterval(async () => {
    if (document.hidden || polling) return;
    polling = true;
    try {
      const h = await api.get('api/history?limit=1');
      const newest = Array.isArray(h) && h.length ? String(h[0].id) : '0';
      if (newest !== dataVersion()) {
        setDataVersion(newest);
        document.dispatchEvent(new CustomEvent('gridplan:changed', { detail: { changeset: newest } }));
        refreshHistory();
      }
    } catch {
      // The server being away for a moment is not worth a message; the next look retries.
    } finally {
      polling = false;
    }
  }, 20000);
}

main().catch((e) => { console.error(e); });
