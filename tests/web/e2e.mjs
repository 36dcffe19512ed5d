// e2e.mjs — the web map end to end in headless Debian Chromium, driven by playwright-core, against
// a real `gridplan serve` (started by tests/it_web.sh). Prints "ok - ..." / "not ok - ...: why"
// lines and saves a screenshot of every step in the artefacts folder.
//
// usage: node tests/web/e2e.mjs --url http://127.0.0.1:PORT/ --token TOKEN --out DIR
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { interiorPoint } from '../../web/js/geo.js';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const base = args.url.endsWith('/') ? args.url : args.url + '/';
const token = args.token || '';
const out = args.out || 'tests/artifacts/web';
fs.mkdirSync(out, { recursive: true });

let failures = 0;
function ok(what) { console.log(`ok - ${what}`); }
function notOk(what, why) { failures++; console.log(`not ok - ${what}: ${why}`); }
function check(cond, what, why) { if (cond) ok(what); else notOk(what, why); return cond; }

async function apiGet(p) {
  const res = await fetch(base + p, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${p}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

const consoleErrors = [];
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gridplan-chromium-'));
const context = await chromium.launchPersistentContext(userDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 800 },
  acceptDownloads: true,
  locale: 'zh-CN',
});
const page = context.pages()[0] || await context.newPage();
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text() + ' @ ' + JSON.stringify(m.location())); });
page.on('pageerror', (e) => consoleErrors.push('pageerror: ' + e.message));
// A reload cancels what is in flight (net::ERR_ABORTED): the test's doing, not the page's.
let reloading = false;
page.on('requestfailed', (r) => {
  if (r.url().includes('/tiles/') || (reloading && /ERR_ABORTED/.test(r.failure()?.errorText || ''))) return;
  consoleErrors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
});
const shot = (name) => page.screenshot({ path: path.join(out, name) });

// Waits until every tile of a layer (and of the other layers shown) is loaded from the current data
// version's URLs.
async function tilesSettled(layer, timeout = 30000) {
  await page.waitForFunction((l) => {
    const v = window.gridplan.dataVersion();
    const fresh = (i) => i.src.includes(`v=${encodeURIComponent(v)}`) && i.classList.contains('leaflet-tile-loaded') && i.complete;
    const imgs = [...document.querySelectorAll(`.gp-tiles-${l} img.leaflet-tile`)];
    // Every other switched-on layer too, so no tile request is still in flight when a step moves on.
    return imgs.length > 0 && imgs.every(fresh) && [...document.querySelectorAll('.gp-tiles img.leaflet-tile')].every(fresh);
  }, layer, { timeout });
  await page.waitForTimeout(300);   // Leaflet's fade-in
}

// The decoded pixels of a layer's visible tiles: how many are drawn (alpha > 0), how many colours,
// and a digest that changes when any pixel changes (tiles keyed by z/x/y, version stripped).
function tileDigest(layer) {
  return page.evaluate((l) => {
    const imgs = [...document.querySelectorAll(`.gp-tiles-${l} img.leaflet-tile-loaded`)]
      .sort((a, b) => (a.src < b.src ? -1 : 1));
    const c = document.createElement('canvas');
    const ctx = c.getContext('2d', { willReadFrequently: true });
    let h = 2166136261 >>> 0;
    let drawn = 0;
    let total = 0;
    const colours = new Set();
    for (const img of imgs) {
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      ctx.clearRect(0, 0, c.width, c.height);
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const key = new URL(img.src).pathname;
      for (let k = 0; k < key.length; k++) h = Math.imul(h ^ key.charCodeAt(k), 16777619) >>> 0;
      for (let p = 0; p < d.length; p += 4) {
        total++;
        if (d[p + 3] > 0) {
          drawn++;
          if (colours.size < 64) colours.add((d[p] << 16) | (d[p + 1] << 8) | d[p + 2]);
        }
        h = Math.imul(h ^ d[p] ^ (d[p + 1] << 8) ^ (d[p + 2] << 16) ^ (d[p + 3] << 24), 16777619) >>> 0;
      }
    }
    return { tiles: imgs.length, drawn, total, colours: colours.size, hash: h.toString(16) };
  }, layer);
}

// Clicks the map at a lon/lat.
async function clickLngLat(lng, lat) {
  const pt = await page.evaluate(([x, y]) => {
    const p = window.gridplan.map.latLngToContainerPoint([y, x]);
    return { x: p.x, y: p.y };
  }, [lng, lat]);
  const box = await page.locator('#map').boundingBox();
  await page.mouse.click(box.x + pt.x, box.y + pt.y);
}

async function cardNumbers() {
  await page.waitForSelector('#inspect .community-card', { state: 'attached', timeout: 15000 });
  return page.evaluate(() => {
    const card = document.querySelector('#inspect .community-card');
    const get = (k) => { const dd = card.querySelector(`dd[data-key="${k}"]`); return dd ? dd.textContent : null; };
    return { code: card.dataset.code, households: get('households'), population: get('population'),
      status: get('status'), minjing: get('minjing'), fujing: get('fujing') };
  });
}
const digits = (s) => Number(String(s).replace(/[^0-9.-]/g, ''));

async function waitForCard(pred, timeout = 20000) {
  const t0 = Date.now();
  for (;;) {
    const n = await cardNumbers().catch(() => null);
    if (n && pred(n)) return n;
    if (Date.now() - t0 > timeout) return n;
    await page.waitForTimeout(200);
  }
}

// A step that throws is one "not ok" line (with a screenshot); later steps still run, except
// those that need what it would have made.
async function step(name, fn) {
  try {
    return await fn();
  } catch (e) {
    const file = 'error-' + name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40) + '.png';
    await shot(file).catch(() => {});
    notOk(name, (e.message || String(e)).split('\n')[0] + ` (see ${file})`);
    return null;
  }
}

let pageLoaded = false;
let target = null;
let checkList = null;
let lng = 0;
let lat = 0;

// 1. The page loads on the demo city, and 2. its tiles draw.
await step('page loads on the demo city', async () => {
  await page.goto(base, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  const title = await page.title();
  check(title.includes('网格规划') && (await page.getAttribute('html', 'lang')) === 'zh-CN',
    'page loads in Chinese at /', `title "${title}"`);
  const local = await page.evaluate(() => [...document.scripts, ...document.querySelectorAll('link[rel=stylesheet]')]
    .every((el) => { const u = el.src || el.href; return !u || u.startsWith(location.origin); }));
  check(local, 'every script and stylesheet comes from the gridplan server (no CDN)', 'one loads from elsewhere');
  pageLoaded = true;
  await tilesSettled('communities');
  const d0 = await tileDigest('communities');
  await shot('01-load.png');
  check(d0.tiles > 0 && d0.drawn > d0.total * 0.02 && d0.colours >= 2, 'community tiles draw (pixels not blank)',
    JSON.stringify(d0));
});

// Another planner's edit (PUT through the API, not through this page) reaches the map without a
// reload (the page watches the change log), and undo from the page restores the tiles exactly.
if (pageLoaded) await step('external edit and undo', async () => {
  const f = await apiGet('collections/communities/items/1');
  const [ix, iy] = interiorPoint(f.geometry);
  await page.evaluate(([x, y]) => window.gridplan.map.setView([y, x], 14, { animate: false }), [ix, iy]);
  await tilesSettled('communities');
  const d0 = await tileDigest('communities');
  const v0 = await page.evaluate(() => window.gridplan.dataVersion());
  const e = 0.0008;   // a small square around an interior point: inside the old shape, so no overlap
  const square = { type: 'MultiPolygon', coordinates: [[[[ix - e, iy - e], [ix + e, iy - e], [ix + e, iy + e], [ix - e, iy + e], [ix - e, iy - e]]]] };
  const res = await fetch(base + 'api/features/communities/1', {
    method: 'PUT', headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' }, body: JSON.stringify(square),
  });
  if (!res.ok) throw new Error(`PUT api/features/communities/1: HTTP ${res.status} ${await res.text()}`);
  const t0 = Date.now();
  await page.waitForFunction((v) => window.gridplan.dataVersion() !== v, v0, { timeout: 30000 });
  await tilesSettled('communities');
  const d1 = await tileDigest('communities');
  await shot('01b-external-edit.png');
  check(d1.hash !== d0.hash, 'an edit made elsewhere redraws the tiles without a reload',
    `noticed after ${Date.now() - t0} ms, digest ${d0.hash} -> ${d1.hash}`);
  await page.click('#tab-plan');
  await page.fill('#token', token);
  await page.click('#token-form button[type="submit"]');
  await page.waitForSelector('#history li[data-id]', { timeout: 15000 });
  const v1 = await page.evaluate(() => window.gridplan.dataVersion());
  await page.click('#undo');
  await page.waitForFunction((v) => window.gridplan.dataVersion() !== v, v1, { timeout: 30000 });
  await tilesSettled('communities');
  const d2 = await tileDigest('communities');
  await shot('01c-external-edit-undone.png');
  check(d2.hash === d0.hash, 'undo from the page restores those tiles pixel for pixel', `digest ${d0.hash} / ${d2.hash}`);
  const undoneShown = await page.locator('#history li.undone').count();
  check(undoneShown >= 1, 'the history shows the edit as undone', `${undoneShown} undone entries`);
});

// 3. Search finds the community to split by code and zooms to it; clicking shows its numbers.
if (pageLoaded) await step('inspect a community', async () => {
  // The community most over the band (the demo city has several).
  checkList = await apiGet('api/check');
  const over = checkList.filter((c) => c.status === 'over' || c.status === 'split' || c.action === 'split');
  const pick = (over.length ? over : checkList).slice().sort((a, b) => b.households - a.households)[0];
  const fc = await apiGet(`collections/communities/items?code=${pick.code}&limit=1`);
  [lng, lat] = interiorPoint(fc.features[0].geometry);
  // Count the page's coverage requests: the card asks for one community's coverage, one at a time.
  let inFlight = 0;
  let maxInFlight = 0;
  const isCov = (r) => r.url().includes('/collections/coverage/items');
  const covUrls = [];
  const onReq = (r) => { if (isCov(r)) { covUrls.push(r.url().replace(/.*\?/, '')); inFlight++; maxInFlight = Math.max(maxInFlight, inFlight); } };
  const onDone = (r) => { if (isCov(r)) inFlight--; };
  page.on('request', onReq);
  page.on('requestfinished', onDone);
  page.on('requestfailed', onDone);
  await page.fill('#search-q', pick.code);
  await page.press('#search-q', 'Enter');
  await page.waitForSelector(`#inspect .community-card[data-code="${pick.code}"]`, { timeout: 15000 });
  ok('search by code selects and zooms to the community');
  await page.fill('#search-q', '');
  // A quick click elsewhere, then the community again: still never two coverage requests at once.
  const other = checkList.find((c) => c.code !== pick.code && c.street_code === pick.street_code) || checkList[0];
  const ofc = await apiGet(`collections/communities/items?code=${other.code}&limit=1`);
  const [olng, olat] = interiorPoint(ofc.features[0].geometry);
  await page.evaluate(([x, y]) => window.gridplan.map.setView([y, x], 14, { animate: false }), [olng, olat]);
  await clickLngLat(olng, olat);
  await page.evaluate(([x, y]) => window.gridplan.map.setView([y, x], 15, { animate: false }), [lng, lat]);
  await clickLngLat(lng, lat);
  const t0 = Date.now();
  const n0 = await waitForCard((n) => n.code === pick.code);
  const sawLoading = await page.locator('#inspect .community-card .coverage-box[aria-busy="true"]').count()
    + await page.locator('#inspect .community-card .coverage-table').count();
  await page.waitForSelector(`#inspect .community-card[data-code="${pick.code}"] .coverage-table tbody tr`, { timeout: 60000 });
  const ms = Date.now() - t0;
  const cells = await page.$$eval('#inspect .coverage-table td.num', (tds) => tds.map((td) => td.textContent));
  const buttons = await page.locator('#inspect .community-card button').count();
  page.off('request', onReq);
  page.off('requestfinished', onDone);
  page.off('requestfailed', onDone);
  await tilesSettled('communities');
  await shot('02-inspect.png');
  if (check(n0 && n0.code === pick.code && digits(n0.households) === pick.households && digits(n0.fujing) === pick.fujing,
    'clicking a community shows its numbers (code, households, 辅警)', JSON.stringify({ n0, pick }))) target = pick;
  console.log(`# coverage in the card ${ms} ms after the click; coverage requests: ${covUrls.length}, at most ${maxInFlight} at once`);
  check(sawLoading > 0 && buttons === 0 && cells.length >= 5 && cells.every((c) => /^\d+(\.\d)?%$/.test(c))
    && maxInFlight === 1 && covUrls.some((u) => u.includes(pick.code)),
    'the click shows coverage per circle type by itself (loading line, no button, one request at a time)',
    `${cells.length} cells after ${ms} ms, ${buttons} buttons, at most ${maxInFlight} coverage requests at once (${covUrls.join(' ')}): ${cells.slice(0, 6).join(' ')}`);
});

// 4. Split preview (k = 2) with the quality report, then apply; 5. undo.
let before = null;
if (target) await step('split preview and apply', async () => {
  await page.click('#tab-plan');
  await page.fill('#token', token);
  await page.click('#token-form button[type="submit"]');
  await page.selectOption('#split-k', '2');
  await page.click('#split-preview');
  await page.waitForSelector('#preview:not([hidden]) dl.quality', { timeout: 60000 });
  const previewParts = await page.evaluate(() => document.querySelectorAll('.leaflet-gp-preview-pane path').length);
  await tilesSettled('communities');
  await shot('03-split-preview.png');
  check(previewParts >= 2, 'split preview draws the proposed parts and a quality report', `${previewParts} parts drawn`);
  const digest0 = await tileDigest('communities');
  const vBefore = await page.evaluate(() => window.gridplan.dataVersion());
  await page.click('#preview-apply');
  await page.waitForFunction((v) => window.gridplan.dataVersion() !== v, vBefore, { timeout: 60000 });
  before = digest0;
  await tilesSettled('communities');
  const n1 = await waitForCard((n) => n.code !== target.code || digits(n.households) !== target.households);
  const after = await tileDigest('communities');
  await shot('04-split-applied.png');
  check(after.hash !== digest0.hash, 'applying the split changes the map tiles without a reload', `digest ${digest0.hash} -> ${after.hash}`);
  check(n1 && (n1.code !== target.code || digits(n1.households) < target.households),
    'the numbers at the same place change after the split', JSON.stringify(n1));
  const checkAfter = await apiGet('api/check');
  check(checkAfter.length === checkList.length + 1, 'the split made one more community', `${checkList.length} -> ${checkAfter.length}`);
  const histItems = await page.locator('#history li[data-id]').count();
  check(histItems >= 1, 'the history lists the change', `${histItems} items`);
});

if (before) await step('undo', async () => {
  const vApplied = await page.evaluate(() => window.gridplan.dataVersion());
  await page.click('#undo');
  await page.waitForFunction((v) => window.gridplan.dataVersion() !== v, vApplied, { timeout: 60000 });
  await tilesSettled('communities');
  const n2 = await waitForCard((n) => n.code === target.code);
  const undone = await tileDigest('communities');
  await shot('05-undo.png');
  check(undone.hash === before.hash, 'undo restores the map tiles exactly', `digest ${before.hash} / ${undone.hash}`);
  check(n2 && n2.code === target.code && digits(n2.households) === target.households,
    'undo restores the numbers', JSON.stringify(n2));
});

// 6. Police table, sortable, and its CSV with one row per community.
if (pageLoaded) await step('police table and CSV', async () => {
  await page.click('#tab-police');
  await page.waitForSelector('#police-table tbody tr', { timeout: 15000 });
  const police = await apiGet('api/police');
  const policeCommunities = Array.isArray(police) ? police : police.communities;
  const rows = await page.locator('#police-table tbody tr').count();
  check(rows === policeCommunities.length, 'police table has a row per community', `${rows} rows vs ${policeCommunities.length}`);
  const column = (key) => page.evaluate((k) => {
    const idx = [...document.querySelectorAll('#police-table thead th')].findIndex((th) => th.querySelector(`[data-key="${k}"]`));
    return [...document.querySelectorAll('#police-table tbody tr')].map((tr) => Number(tr.children[idx].textContent.replace(/[^0-9.-]/g, '')));
  }, key);
  await page.click('#police-table button.sort[data-key="households"]');
  const down = await column('households');
  await page.click('#police-table button.sort[data-key="households"]');
  const up = await column('households');
  check(down.length > 1 && down[0] > down[down.length - 1] && down.every((v, i) => i === 0 || down[i - 1] >= v)
    && up.every((v, i) => i === 0 || up[i - 1] <= v), 'police table sorts by a column both ways (households)',
    `${down.slice(0, 4).join(',')} … / ${up.slice(0, 4).join(',')} …`);
  // The demo profile's 辅警 grow with households (2 up to 3,000, one more per further 2,000), so
  // the column differs between rows and sorting it is a real test.
  await page.click('#police-table button.sort[data-key="fujing"]');
  const fujing = await column('fujing');
  await page.click('#police-table button.sort[data-key="fujing"]');
  const fujingUp = await column('fujing');
  await page.click('#police-table button.sort[data-key="fujing"]');
  check(fujing.length > 1 && fujing[0] > fujing[fujing.length - 1] && fujing.every((v, i) => i === 0 || fujing[i - 1] >= v)
    && fujingUp.every((v, i) => i === 0 || fujingUp[i - 1] <= v), 'police table sorts by 辅警 both ways (counts differ between rows)',
    `${fujing.slice(0, 6).join(',')} … ${fujing[fujing.length - 1]} / ${fujingUp.slice(0, 4).join(',')} …`);
  const note = await page.textContent('#police-note');
  check(/3,000/.test(note) && /2,000/.test(note), 'the police view states the 辅警 rule in words', note);
  await shot('06-police.png');
  // The police layer's legend: one row per 辅警 count, as the tiles colour them.
  await page.click('#tab-layers');
  await page.check('#layer-police');
  await tilesSettled('police');
  const legend = await page.$$eval('#legend-police li', (lis) => lis.map((li) => li.textContent));
  await shot('06b-police-layer.png');
  const counts = [...new Set(policeCommunities.map((c) => c.fujing))].sort((a, b) => a - b);
  const communitiesOn = await page.isChecked('#layer-communities');
  check(legend.length >= 2 && legend.some((l) => l.includes(String(counts[0]))) && !communitiesOn,
    'the police layer legend has a row per 辅警 count, and the community fill steps aside',
    `${legend.join(' | ')} (counts in the data: ${counts.join(',')}; communities still on: ${communitiesOn})`);
  // Coverage gaps (drawn in the browser from the whole city's coverage): its legend swatches have
  // the map's fill opacity, and it replaces the police fill.
  await page.check('#layer-coverage');
  await page.waitForSelector('.leaflet-gp-coverage-pane path', { state: 'attached', timeout: 30000 });
  await page.waitForFunction(() => document.querySelectorAll('#legend-coverage li').length === 3, null, { timeout: 10000 });
  const gaps = await page.evaluate(() => ({
    paths: document.querySelectorAll('.leaflet-gp-coverage-pane path[fill-opacity="0.65"]').length,
    swatch: getComputedStyle(document.querySelector('#legend-coverage li .swatch')).backgroundColor,
    police: document.getElementById('layer-police').checked,
  }));
  await shot('06c-coverage-gaps.png');
  check(gaps.paths > 0 && /rgba\(.*0\.6[45]/.test(gaps.swatch) && !gaps.police,
    'coverage gaps draw with a legend of the same opacity, in place of the police fill', JSON.stringify(gaps));
  await page.check('#layer-communities');
  const othersOff = !(await page.isChecked('#layer-police')) && !(await page.isChecked('#layer-coverage'));
  check(othersOff, 'switching the community fill back on switches the other fills off', 'another fill still on');
  await page.click('#tab-police');
  const csvPath = path.join(out, 'police.csv');
  const link = await page.$eval('#police-csv', (a) => ({ href: a.href, download: a.getAttribute('download') }));
  check(link.href.endsWith('/api/police?format=csv') && link.download === 'police.csv', 'the CSV link points at the server CSV',
    JSON.stringify(link));
  let csv;
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15000 }), page.click('#police-csv')]);
  const failure = await download.failure();
  if (!failure) {
    await download.saveAs(csvPath);
    csv = fs.readFileSync(csvPath);
  } else {
    // Debian's headless Chromium starts the download and then cancels it (a known headless
    // limitation); the bytes are then read from the link's own URL inside the page.
    console.log(`# the browser started the download and reported "${failure}"; reading ${link.href} in the page instead`);
    csv = Buffer.from(await page.evaluate(async (u) => [...new Uint8Array(await (await fetch(u)).arrayBuffer())], link.href));
    fs.writeFileSync(csvPath, csv);
  }
  const bom = csv[0] === 0xef && csv[1] === 0xbb && csv[2] === 0xbf;
  const lines = csv.toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim());
  const codesInCsv = lines.slice(1).map((l) => (l.match(/\b\d{12}\b/) || [])[0]).filter(Boolean);
  const unique = new Set(codesInCsv);
  const missing = policeCommunities.filter((c) => !unique.has(c.code)).map((c) => c.code);
  check(bom, 'police CSV downloads as UTF-8 with BOM', `first bytes ${[...csv.subarray(0, 3)]}`);
  check(missing.length === 0 && unique.size === policeCommunities.length && codesInCsv.length === unique.size,
    'police CSV has the right rows (one per community, codes match the API)',
    `${codesInCsv.length} community rows in CSV (${unique.size} codes), ${policeCommunities.length} in API, missing ${missing.slice(0, 5)}`);
});

// 7. English on request.
if (pageLoaded) await step('English toggle', async () => {
  await page.click('#lang');
  const en = await page.evaluate(() => [document.documentElement.lang, document.getElementById('tab-layers').textContent]);
  await shot('07-english.png');
  check(en[0] === 'en' && en[1] === 'Layers', 'English toggle switches the page', en.join(' / '));
  // Nothing the page itself writes stays in Chinese (names of places and the 民警/辅警 glosses aside).
  const han = /[\u4e00-\u9fff]/;
  const policeText = await page.evaluate(() => [document.getElementById('police-note').textContent,
    ...[...document.querySelectorAll('#police-table thead th, #police-table tfoot th')].map((e) => e.textContent.replace(/\((民警|辅警)\)/, ''))]);
  await page.click('#tab-inspect');
  await page.waitForFunction(() => { const h = document.querySelector('#inspect .community-card h3'); return h && h.textContent.startsWith('Community'); }, null, { timeout: 15000 });
  await page.waitForSelector('#inspect .coverage-table', { timeout: 30000 });
  const cardText = await page.$$eval('#inspect .community-card dt, #inspect .coverage-table th', (els) => els.map((e) => e.textContent.replace(/\((民警|辅警)\)/, '')));
  await shot('07b-english-inspect.png');
  const chinese = [...policeText, ...cardText].filter((x) => han.test(x));
  check(chinese.length === 0, 'in English the police view and the community card have no Chinese labels', chinese.join(' | '));
  await page.click('#tab-police');
  await page.click('#lang');
});

// 8. Keyboard: the controls are reachable with Tab.
if (pageLoaded) await step('keyboard', async () => {
  await page.click('#tab-layers');
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const reached = [];
  const want = ['panel-toggle', 'search-q', 'lang', 'tab-layers', 'layer-communities', 'map'];
  for (let i = 0; i < 40 && !want.every((id) => reached.includes(id)); i++) {
    await page.keyboard.press('Tab');
    reached.push(await page.evaluate(() => document.activeElement.id || document.activeElement.className || document.activeElement.tagName));
  }
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  check(want.every((id) => reached.includes(id)) && outline !== 'none',
    'header, tabs, layer switches and the map are reachable by keyboard, with a focus ring', `${reached.join(',')} outline ${outline}`);
});

// 9. Phone width: no horizontal overflow, map first, the panel opens as a bottom sheet.
if (pageLoaded) await step('phone width', async () => {
  await page.setViewportSize({ width: 375, height: 740 });
  reloading = true;
  await page.reload({ waitUntil: 'load' });
  reloading = false;
  await page.waitForSelector('body[data-ready="1"]', { timeout: 20000 });
  await tilesSettled('communities');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  const closedAtStart = (await page.getAttribute('#panel-toggle', 'aria-expanded')) === 'false';
  await shot('08-phone.png');
  await page.click('#panel-toggle');
  await page.click('#tab-inspect');
  await page.waitForTimeout(400);
  const sheet = await page.evaluate(() => document.getElementById('panel').getBoundingClientRect().toJSON());
  await shot('09-phone-panel.png');
  // A community's card in the bottom sheet, coverage included, without sideways scrolling.
  let cardFits = true;
  if (target) {
    await page.fill('#search-q', target.code);
    await page.press('#search-q', 'Enter');
    await page.waitForSelector(`#inspect .community-card[data-code="${target.code}"] .coverage-table tbody tr`, { timeout: 30000 });
    await page.waitForTimeout(400);
    cardFits = await page.evaluate(() => { const v = document.getElementById('view-inspect'); return v.scrollWidth <= v.clientWidth; });
    await shot('09b-phone-card.png');
  }
  // The police table on a phone: name, households, 民警, 辅警 without sideways scrolling.
  await page.click('#tab-police');
  await page.waitForSelector('#police-table tbody tr', { timeout: 15000 });
  const policeFits = await page.evaluate(() => { const w = document.querySelector('#view-police .table-wrap'); return w.scrollWidth <= w.clientWidth; });
  await shot('09c-phone-police.png');
  check(policeFits, 'the police table fits a 375 px screen (code, street, population left to the CSV)', 'it scrolls sideways');
  check(overflow <= 375 && closedAtStart && sheet.width <= 375 && sheet.height > 100 && sheet.bottom <= 740 && cardFits,
    'fits a 375 px phone screen: map first, the panel opens as a bottom sheet, the card fits its width',
    `scrollWidth ${overflow}, closed at start ${closedAtStart}, panel ${JSON.stringify(sheet)}, card fits ${cardFits}`);
});

// 10. No console errors in the whole run.
check(consoleErrors.length === 0, 'no console errors', consoleErrors.slice(0, 5).join(' | '));
await context.close();
fs.rmSync(userDir, { recursive: true, force: true });
process.exit(failures ? 1 : 0);
