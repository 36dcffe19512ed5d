// i18n.js — the page's strings in Chinese (default) and English, and applying them to the DOM.
// Static text carries data-i18n (textContent), data-i18n-ph (placeholder) or data-i18n-aria
// (aria-label); code that builds DOM calls t(key, vars).

const strings = {
  zh: {
    title: '网格规划', skip: '跳到控制面板', togglePanel: '显示/隐藏面板', panel: '控制面板', views: '视图',
    map: '地图', searchLabel: '按名称或编码搜索社区', searchPh: '社区名称或编码', search: '搜索',
    noResults: '没有找到匹配的社区', tabLayers: '图层', tabInspect: '详情', tabPlan: '规划', tabPolice: '警力',
    overlays: '图层', base: '底图',
    layer_default: '底图（全部要素）', layer_communities: '社区（按户数分级）', layer_grids: '网格（含编码）',
    layer_buildings: '楼栋', layer_facilities: '设施（按类型）', layer_circles: '服务圈（按类型）',
    layer_coverage: '覆盖缺口', layer_police: '警力配置（辅警人数）', legend: '图例',
    legendNote: '颜色取自服务器样式 {src}',
    inspectHint: '点击地图上的社区或网格查看数据。', loading: '加载中…',
    community: '社区', grid: '网格', code: '编码', name: '名称', street: '街道', households: '户数',
    population: '人口', status: '规模状态', action: '建议', minjing: '民警', fujing: '辅警', minjingCol: '民警', fujingCol: '辅警', workers: '社区工作者',
    grids: '网格数', coverage: '服务圈覆盖率', seq: '序号', locked: '已锁定', yes: '是', no: '否',
    status_under: '偏小', status_within: '符合', status_over: '偏大', status_split: '需拆分',
    action_merge: '合并', action_split: '拆分', band: '标准规模 {min}–{max} 户',
    selectForPlan: '选为规划对象', selectedFor: '已选为规划对象',
    token: '规划令牌', save: '保存', tokenSaved: '已保存令牌（仅存于本浏览器）', tokenNone: '未设置令牌：可以预览，不能应用。',
    selected: '已选社区', split: '拆分', parts: '份数', auto: '自动', preview: '预览', merge: '合并',
    mergeHint: '先选一个社区，再点“选择相邻社区”并在地图上点击另一个社区；不选则自动挑选。',
    mergePick: '选择相邻社区', mergePicking: '请在地图上点击相邻社区…', gridDivide: '网格划分',
    apply: '应用', cancel: '取消', undo: '撤销上一次修改', history: '修改历史', historyEmpty: '暂无修改',
    undoThis: '撤销',
    op_split: '拆分', op_merge: '合并', op_grids: '网格划分', op_plan: '自动规划', op_edit: '编辑边界', op_undo: '撤销',
    sum_community: '社区', sum_into: '并入', sum_parts: '份数', sum_codes: '编码', sum_table: '图层', sum_fid: '要素',
    sum_code: '编码', sum_splits: '拆分', sum_merges: '合并', undone: '已撤销（#{id}）', undoOf: '撤销 #{id}',
    previewSplit: '拆分预览：{name}', previewMerge: '合并预览：{name}', previewGrids: '网格划分预览：{name}',
    applied: '已应用，修改编号 #{id}', undoneMsg: '已撤销，新修改编号 #{id}',
    needSelect: '请先在地图上选择一个社区。', needToken: '应用修改需要规划令牌。',
    quality: '质量报告', part: '部分', deviation: '偏差', compactness: '紧凑度',
    policeMode: '表格', byCommunity: '按社区', byStreet: '按街道', downloadCsv: '下载 CSV', total: '合计',
    policeRule: '规则：{rule}',
    policeRuleText: '配置规则（{profile}）：每个社区 {minjing} 名民警；辅警在 {baseHh} 户及以下配 {base} 名，此后每增加 {step} 户加 1 名（{rounding}）。',
    rounding_ceil: '不足 1 档按 1 档计', rounding_floor: '不足 1 档不计', rounding_round: '过半档按 1 档计', communities: '社区数', sortBy: '按此列排序',
    error: '出错：{msg}', netError: '无法连接服务器', features: '个要素',
    cls_under: '偏小：少于 {min} 户', cls_within: '符合标准：{min}–{max} 户', cls_over: '偏大：{max}–{split} 户',
    cls_split: '需拆分：超过 {split} 户', cls_fujing: '{n} 名辅警', cls_fujing_more: '{n} 名及以上辅警',
    cls_grid: '网格边界（放大后显示编码）', cls_building: '楼栋',
    cls_cov1: '10%–30% 住户不在该服务圈内', cls_cov2: '30%–60% 住户不在圈内', cls_cov3: '60% 以上住户不在圈内',
    type_clinic: '卫生服务站', type_supermarket: '超市便利店', type_fitness: '健身设施', type_culture: '文化活动中心',
    type_police: '警务室', type_fire_station: '微型消防站', type_elder_care: '养老服务', type_school: '学校',
    type_other: '其他',
    q_parts: '份数', q_target: '目标户数', q_band: '标准规模（户）', q_max_deviation: '最大偏差（相对目标）',
    q_mean_deviation: '平均偏差', q_polsby_popper_min: '最小紧凑度（Polsby–Popper）', q_polsby_popper_mean: '平均紧凑度',
    q_contiguous: '各部分连续', q_valid: '几何有效', q_outside_band: '超出标准的部分', q_forced_by_building: '因楼栋不可分而超标',
    q_symdiff_ratio: '与原边界差异比', q_area_ratio: '面积差异比', q_households_in: '原户数', q_households_out: '拆分后户数合计',
    q_seconds: '计算用时（秒）',
    coverageCircle: '服务圈', circle: '服务圈', bandLabel: '标准规模（户）', mode_straight: '直线距离', mode_network: '沿路网步行', 'mode_': '',
    circ_life_15min: '15分钟生活圈', circ_daily_10min: '10分钟生活服务圈', circ_health_10min: '10分钟健康服务圈',
    circ_culture_10min: '10分钟文化服务圈', circ_fitness_10min: '10分钟健身圈', circ_five_min: '5分钟生活圈',
    circ_fire_station: '微型消防站3分钟到场', circ_police: '警务室服务圈',
    type_community_service: '社区服务站', type_kindergarten: '幼儿园', type_pharmacy: '药店',
  },
  en: {
    title: 'Grid planning', skip: 'Skip to the control panel', togglePanel: 'Show/hide panel', panel: 'Control panel',
    views: 'Views', map: 'Map', searchLabel: 'Search communities by name or code', searchPh: 'Community name or code',
    search: 'Search', noResults: 'No matching community', tabLayers: 'Layers', tabInspect: 'Inspect', tabPlan: 'Plan',
    tabPolice: 'Police', overlays: 'Layers', base: 'Base map',
    layer_default: 'Base map (all features)', layer_communities: 'Communities (by household class)',
    layer_grids: 'Grids (with codes)', layer_buildings: 'Buildings', layer_facilities: 'Facilities (by type)',
    layer_circles: 'Service circles (by type)', layer_coverage: 'Coverage gaps',
    layer_police: 'Police allocation (auxiliary officers)', legend: 'Legend', legendNote: 'Colours from the server style {src}',
    inspectHint: 'Click a community or grid on the map to see its numbers.', loading: 'Loading…',
    community: 'Community', grid: 'Grid', code: 'Code', name: 'Name', street: 'Street', households: 'Households',
    population: 'Population', status: 'Size status', action: 'Suggested', minjing: 'Police officers (民警)', minjingCol: 'Police', fujingCol: 'Auxiliary',
    fujing: 'Auxiliary officers (辅警)', workers: 'Community workers', grids: 'Grids', coverage: 'Service circle coverage',
    seq: 'Sequence', locked: 'Locked', yes: 'yes', no: 'no',
    status_under: 'under', status_within: 'within', status_over: 'over', status_split: 'to split',
    action_merge: 'merge', action_split: 'split', band: 'Standard size {min}–{max} households',
    selectForPlan: 'Select for planning', selectedFor: 'Selected for planning',
    token: 'Planner token', save: 'Save', tokenSaved: 'Token saved (in this browser only)',
    tokenNone: 'No token: you can preview but not apply.', selected: 'Selected community', split: 'Split',
    parts: 'Parts', auto: 'auto', preview: 'Preview', merge: 'Merge',
    mergeHint: 'Select a community, press “Pick neighbour” and click an adjacent community; without one the server picks.',
    mergePick: 'Pick neighbour', mergePicking: 'Click an adjacent community on the map…', gridDivide: 'Grid division',
    apply: 'Apply', cancel: 'Cancel', undo: 'Undo last change', history: 'History', historyEmpty: 'No changes yet',
    undoThis: 'Undo',
    op_split: 'split', op_merge: 'merge', op_grids: 'grid division', op_plan: 'auto-plan', op_edit: 'boundary edit', op_undo: 'undo',
    sum_community: 'community', sum_into: 'into', sum_parts: 'parts', sum_codes: 'codes', sum_table: 'layer', sum_fid: 'feature',
    sum_code: 'code', sum_splits: 'splits', sum_merges: 'merges', undone: 'undone (#{id})', undoOf: 'undo of #{id}',
    previewSplit: 'Split preview: {name}', previewMerge: 'Merge preview: {name}', previewGrids: 'Grid division preview: {name}',
    applied: 'Applied as change #{id}', undoneMsg: 'Undone as change #{id}',
    needSelect: 'Select a community on the map first.', needToken: 'Applying needs a planner token.',
    quality: 'Quality report', part: 'Part', deviation: 'Deviation', compactness: 'Compactness',
    policeMode: 'Table', byCommunity: 'By community', byStreet: 'By street', downloadCsv: 'Download CSV', total: 'Total',
    policeRule: 'Rule: {rule}',
    policeRuleText: 'Rule ({profile}): {minjing} police officer per community; {base} auxiliary officers up to {baseHh} households, one more per further {step} households ({rounding}).',
    rounding_ceil: 'a part step counts as a step', rounding_floor: 'a part step does not count', rounding_round: 'half a step or more counts', communities: 'Communities', sortBy: 'Sort by this column',
    error: 'Error: {msg}', netError: 'Cannot reach the server', features: 'features',
    cls_under: 'under: fewer than {min} households', cls_within: 'within: {min}–{max} households',
    cls_over: 'over: {max}–{split} households', cls_split: 'to split: more than {split} households',
    cls_fujing: '{n} auxiliary officers', cls_fujing_more: '{n} or more auxiliary officers',
    cls_grid: 'grid boundary (codes when zoomed in)', cls_building: 'building',
    cls_cov1: '10–30% of households outside the circle', cls_cov2: '30–60% outside', cls_cov3: 'over 60% outside',
    type_clinic: 'clinic', type_supermarket: 'supermarket', type_fitness: 'fitness', type_culture: 'culture centre',
    type_police: 'police post', type_fire_station: 'micro fire station', type_elder_care: 'elder care', type_school: 'school',
    type_other: 'other',
    q_parts: 'parts', q_target: 'target households', q_band: 'band (households)', q_max_deviation: 'max deviation from target',
    q_mean_deviation: 'mean deviation', q_polsby_popper_min: 'min compactness (Polsby–Popper)', q_polsby_popper_mean: 'mean compactness',
    q_contiguous: 'parts contiguous', q_valid: 'geometry valid', q_outside_band: 'parts outside the band',
    q_forced_by_building: 'outside because a building cannot be cut', q_symdiff_ratio: 'boundary difference ratio',
    q_area_ratio: 'area difference ratio', q_households_in: 'households before', q_households_out: 'households after',
    q_seconds: 'run time (s)',
    coverageCircle: 'Circle', circle: 'Circle', bandLabel: 'Band (households)', mode_straight: 'straight-line distance', mode_network: 'walking on roads', 'mode_': '',
    circ_life_15min: '15-minute life circle', circ_daily_10min: '10-minute daily services', circ_health_10min: '10-minute health',
    circ_culture_10min: '10-minute culture', circ_fitness_10min: '10-minute fitness', circ_five_min: '5-minute circle',
    circ_fire_station: 'micro fire station, 3 minutes', circ_police: 'police post reach',
    type_community_service: 'community service centre', type_kindergarten: 'kindergarten', type_pharmacy: 'pharmacy',
  },
};

let lang = localStorage.getItem('gridplan.lang') || 'zh';
if (!strings[lang]) lang = 'zh';

export function getLang() { return lang; }

export function t(key, vars) {
  let s = strings[lang][key] ?? strings.zh[key] ?? key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] ?? m));
  return s;
}

// Status and action names come from the server as English words; show them in the page's language.
export function tStatus(status) { return status ? t('status_' + status) : '—'; }
export function tAction(action) { return action ? t('action_' + action) : '—'; }

export function applyStrings(root = document) {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = 'gridplan ' + t('title');
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-ph]')) el.placeholder = t(el.dataset.i18nPh);
  for (const el of root.querySelectorAll('[data-i18n-aria]')) el.setAttribute('aria-label', t(el.dataset.i18nAria));
  const btn = document.getElementById('lang');
  if (btn) {
    btn.textContent = lang === 'zh' ? 'EN' : '中文';
    btn.lang = lang === 'zh' ? 'en' : 'zh-CN';
    btn.setAttribute('aria-label', lang === 'zh' ? 'English' : '中文');
  }
}

export function setLang(l) {
  lang = strings[l] ? l : 'zh';
  localStorage.setItem('gridplan.lang', lang);
  applyStrings();
}

export function fmtNum(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return Number(n).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US', { maximumFractionDigits: digits });
}

// A share 0..1 as a percentage.
export function fmtPct(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  return (x * 100).toFixed(1) + '%';   // the server sends shares (0..1)
}
