// The operators' dashboard: plain browser JavaScript over the gateway's JSON APIs (no build
// step). Every data call carries the operator token; everything shown is set as text, never as HTML.
'use strict';

(function () {
  const TOKEN_KEY = 'ledger.adminToken';
  // The token lives as long as this tab (sessionStorage), never in the browser's lasting storage.
  const session = window.sessionStorage;
  const VIEWS = [
    'acceptance',
    'reconciliation',
    'latency',
    'reviews',
    'alerts',
    'launch',
    'lag',
    'postbacks',
    'audit',
  ];
  // Drill-down order of the reconciliation table and the report parameter each level filters on.
  const DRILL = [
    { dim: 'offer', column: 'offer_id', param: 'offer_id', label: 'offer' },
    { dim: 'publisher', column: 'publisher_id', param: 'publisher_id', label: 'publisher' },
    { dim: 'source', column: 'source', param: 'source', label: 'source (sub1)' },
    { dim: 'placement', column: 'placement', param: 'placement', label: 'placement' },
    { dim: 'geo', column: 'geo', param: 'geo', label: 'geo' },
  ];
  // Latency buckets (libs/persistence/src/read-models/latency.ts): upper bound in ms (null =
  // above the last) and label.
  const LATENCY_BUCKETS = [
    [1e3, '≤1s'],
    [5e3, '≤5s'],
    [15e3, '≤15s'],
    [6e4, '≤1m'],
    [3e5, '≤5m'],
    [9e5, '≤15m'],
    [36e5, '≤1h'],
    [108e5, '≤3h'],
    [216e5, '≤6h'],
    [432e5, '≤12h'],
    [864e5, '≤24h'],
    [1728e5, '≤48h'],
    [6048e5, '≤7d'],
    [2592e6, '≤30d'],
    [null, '>30d'],
  ];
  const COLORS = ['#2563eb', '#dc6803', '#039855', '#7a5af8', '#d92d20', '#0e9384', '#c11574', '#475467'];

  const $ = (id) => document.getElementById(id);
  const state = {
    view: 'acceptance',
    drill: [],
    charts: {},
    timer: undefined,
    loading: false,
    // Who the token belongs to: { name, role } from GET /v1/admin/whoami.
    me: undefined,
    // Audit log pages: the before_id of each page shown after the newest.
    auditPages: [],
    // Postback log pages: the cursor of each page shown after the newest.
    postbackPages: [],
  };

  // ---------- helpers ----------

  /** Builds an element: el('td', {class: 'x'}, 'text', child). Strings become text nodes. */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  /** Integer micros (a decimal string, maybe negative) as a decimal amount; never via floats. */
  function formatMicros(micros) {
    const s = String(micros ?? '');
    if (!/^-?\d+$/.test(s)) return '?';
    const neg = s.startsWith('-');
    const digits = (neg ? s.slice(1) : s).padStart(7, '0');
    const int = digits.slice(0, -6).replace(/^0+(?=\d)/, '');
    let frac = digits.slice(-6).replace(/0+$/, '');
    if (frac.length < 2) frac = frac.padEnd(2, '0');
    return `${neg ? '-' : ''}${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
  }
  const money = (micros, currency) => `${formatMicros(micros)} ${currency}`;
  /** Whole reward units (a decimal string, maybe negative) with thousands separators; never via floats. */
  function formatUnits(units) {
    const s = String(units ?? '');
    if (!/^-?\d+$/.test(s)) return '?';
    const neg = s.startsWith('-');
    return `${neg ? '-' : ''}${(neg ? s.slice(1) : s).replace(/\B(?=(\d{3})+(?!\d))/g, ',')}`;
  }
  /** A row's rewards as "140 coins, 20 gems" (net of reversals), or '–'. */
  function rewardsText(rewards) {
    const e = Object.entries(rewards || {});
    return e.length ? e.map(([name, r]) => `${formatUnits(r.net)} ${name}`).join(', ') : '–';
  }
  function rewardsTitle(rewards) {
    const e = Object.entries(rewards || {});
    return e.length
      ? e.map(([name, r]) => `${name}: ${r.issued} issued, ${r.reversed} reversed`).join('\n')
      : undefined;
  }
  /** Net rewards per virtual currency over the totals of every money currency: [[name, net]], by name. */
  function rewardTotals(totals) {
    const net = new Map();
    for (const t of totals)
      for (const [name, r] of Object.entries(t.rewards || {}))
        net.set(name, (net.get(name) || 0n) + BigInt(r.net));
    return [...net.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, n]) => [name, n.toString()]);
  }
  const pct = (r) => (r === null || r === undefined ? '–' : `${(r * 100).toFixed(1)}%`);
  const int = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'));
  const dimText = (v) => (v === null || v === undefined || v === '' ? '(unknown)' : String(v));

  function duration(ms) {
    if (ms === null || ms === undefined) return '–';
    const s = ms / 1000;
    if (s < 1) return `${Math.round(ms)} ms`;
    if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
    if (s < 5400) return `${(s / 60).toFixed(1)} min`;
    if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
    return `${(s / 86400).toFixed(1)} d`;
  }
  const utcDay = (d) => d.toISOString().slice(0, 10);
  function daysBetween(from, to) {
    const out = [];
    for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 864e5)
      out.push(utcDay(new Date(t)));
    return out;
  }

  class HttpError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** Calls the gateway with the operator token; a 401 signs out with the server's reason. */
  async function api(path, init = {}) {
    const token = session.getItem(TOKEN_KEY);
    if (!token) throw new HttpError(401, 'unauthorized', 'no admin token');
    const headers = { authorization: `Bearer ${token}`, accept: 'application/json', ...(init.headers || {}) };
    let res;
    try {
      res = await fetch(path, { ...init, headers });
    } catch (e) {
      throw new HttpError(0, 'network', `the gateway did not answer (${e.message})`);
    }
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    if (!res.ok) {
      const err = body && body.error ? body.error : { code: String(res.status), message: text };
      // Only if this request's token is still the one in use: a refusal of an old token that
      // arrives after the operator signed in again must not sign the new session out.
      if (res.status === 401 && session.getItem(TOKEN_KEY) === token) {
        signOut(`The token was refused (${err.message}). Enter your operator token.`);
      }
      throw new HttpError(res.status, err.code, err.message);
    }
    return body;
  }

  function range() {
    return { from: $('from').value, to: $('to').value };
  }
  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, v);
    return q.toString();
  }

  function chart(id, config) {
    if (state.charts[id]) state.charts[id].destroy();
    if (typeof Chart === 'undefined') return;
    config.options = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      ...config.options,
    };
    state.charts[id] = new Chart($(id), config);
  }

  function table(id, head, rows, foot, emptyText) {
    const t = $(id);
    t.replaceChildren(
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          head.map((h) => el('th', { class: h.cls }, h.label)),
        ),
      ),
      el(
        'tbody',
        {},
        rows.length
          ? rows
          : el('tr', {}, el('td', { class: 'empty', colspan: head.length }, emptyText || 'No data')),
      ),
      ...(foot && foot.length ? [el('tfoot', {}, foot)] : []),
    );
  }

  function card(label, value, title) {
    return el(
      'div',
      { class: 'card', title },
      el('div', { class: 'label' }, label),
      el('div', { class: 'value' }, value),
    );
  }

  // Where the reports were read (REPORTS_DATABASE_URL: a replica) and how far behind it is.
  function showSource(report) {
    const s = report && report.source;
    if (!s) return;
    $('report-source').textContent =
      s.database === 'replica'
        ? `reports from the replica, ${s.replica_lag_seconds === null ? 'lag unknown' : `${s.replica_lag_seconds} s behind`}`
        : 'reports from the primary';
  }

  function showBanner(text) {
    $('banner').textContent = text || '';
    $('banner').hidden = !text;
  }

  // ---------- session ----------

  function signOut(message) {
    session.removeItem(TOKEN_KEY);
    state.me = undefined;
    $('whoami').textContent = '';
    stopAutoRefresh();
    for (const id of Object.keys(state.charts)) state.charts[id].destroy();
    state.charts = {};
    // Nothing fetched with the old token stays on screen.
    for (const t of document.querySelectorAll('main table')) t.replaceChildren();
    for (const id of ['acc-cards', 'lat-metrics', 'reviews-list', 'lag-cards']) $(id).replaceChildren();
    $('review-count').textContent = '';
    $('report-source').textContent = '';
    $('app').hidden = true;
    $('range').hidden = true;
    $('session').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('token').value = '';
    $('token').focus();
  }

  async function signedIn() {
    try {
      state.me = await api('/v1/admin/whoami');
    } catch (e) {
      if (e.status !== 401)
        $('login-error').textContent = e.status ? `${e.status} ${e.code}: ${e.message}` : e.message;
      return;
    }
    $('whoami').textContent = `${state.me.name} (${state.me.role})`;
    $('login').hidden = true;
    $('app').hidden = false;
    $('range').hidden = false;
    $('session').hidden = false;
    route();
  }

  const mayDecide = () => state.me && (state.me.role === 'reviewer' || state.me.role === 'admin');

  // ---------- views ----------

  const loaders = {
    acceptance: loadAcceptance,
    reconciliation: loadReconciliation,
    latency: loadLatency,
    reviews: loadReviews,
    alerts: loadAlerts,
    launch: loadLaunch,
    lag: loadLag,
    postbacks: loadPostbacks,
    audit: loadAudit,
  };

  async function load(view, opts = {}) {
    const section = $(`view-${view}`);
    section.dataset.state = 'loading';
    try {
      await loaders[view](opts);
      section.dataset.state = 'ready';
      showBanner('');
      $('updated').textContent = `updated ${new Date().toISOString().slice(11, 19)} UTC`;
    } catch (e) {
      section.dataset.state = 'error';
      if (e.status === 401) return;
      showBanner(e.status ? `${e.status} ${e.code}: ${e.message}` : e.message);
    }
  }

  async function loadAcceptance() {
    const { from, to } = range();
    const r = await api(`/v1/reports/reconciliation?${query({ from, to, group_by: 'day,partner' })}`);
    showSource(r);
    const days = daysBetween(from, to);
    // Rows are per currency too: rates add up the counts of every currency of a partner's day.
    const byPartner = new Map();
    for (const row of r.rows) {
      const p = dimText(row.partner_id);
      if (!byPartner.has(p)) byPartner.set(p, new Map());
      const d = byPartner.get(p);
      const cell = d.get(row.day) || { postbacks: 0, ok: 0, reasons: {} };
      cell.postbacks += row.postbacks;
      cell.ok += row.accepted + row.held_postbacks;
      for (const [k, n] of Object.entries(row.rejected_by_reason))
        cell.reasons[k] = (cell.reasons[k] || 0) + n;
      d.set(row.day, cell);
    }
    const partners = [...byPartner.keys()].sort();

    const sum = (f) => r.totals.reduce((n, t) => n + t[f], 0);
    const postbacks = sum('postbacks');
    $('acc-cards').replaceChildren(
      card('postbacks', int(postbacks)),
      card('acceptance', pct(postbacks ? (sum('accepted') + sum('held_postbacks')) / postbacks : null)),
      card('duplicates', int(sum('duplicates'))),
      card('rejected', int(sum('rejected_postbacks'))),
      card('held for review', int(sum('held_postbacks'))),
      // XXX is "no currency" (postbacks that named no offer we know): no money to show.
      ...r.totals
        .filter((t) => !(t.currency === 'XXX' && t.revenue_micros === '0' && t.payout_micros === '0'))
        .flatMap((t) => [
          card(`revenue ${t.currency}`, formatMicros(t.revenue_micros)),
          card(`payout ${t.currency}`, formatMicros(t.payout_micros), 'publisher payout, net of reversals'),
          card(`margin ${t.currency}`, formatMicros(t.margin_micros), 'revenue - payout'),
        ]),
      ...rewardTotals(r.totals).map(([name, net]) =>
        card(`rewards ${name}`, formatUnits(net), 'user rewards issued, net of reversals (whole units)'),
      ),
    );

    chart('acc-line', {
      type: 'line',
      data: {
        labels: days,
        datasets: partners.map((p, i) => ({
          label: p,
          data: days.map((d) => {
            const c = byPartner.get(p).get(d);
            return c && c.postbacks ? Math.round((c.ok / c.postbacks) * 1000) / 10 : null;
          }),
          borderColor: COLORS[i % COLORS.length],
          backgroundColor: COLORS[i % COLORS.length],
          spanGaps: true,
        })),
      },
      options: {
        scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } },
        plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${c.parsed.y}%` } } },
      },
    });

    const select = $('acc-partner');
    const chosen = select.value;
    select.replaceChildren(
      el('option', { value: '' }, 'all partners'),
      ...partners.map((p) => el('option', { value: p, selected: p === chosen }, p)),
    );
    drawReasons(byPartner, days);
    select.onchange = () => drawReasons(byPartner, days);

    const rows = partners.map((p) => {
      const cells = [...byPartner.get(p).values()];
      const n = cells.reduce((a, c) => a + c.postbacks, 0);
      const ok = cells.reduce((a, c) => a + c.ok, 0);
      const reasons = {};
      for (const c of cells)
        for (const [k, v] of Object.entries(c.reasons)) reasons[k] = (reasons[k] || 0) + v;
      const top = Object.entries(reasons)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
      return el(
        'tr',
        {},
        el('td', {}, p),
        el('td', {}, int(n)),
        el('td', {}, pct(n ? ok / n : null)),
        el('td', { class: 'text' }, top || '–'),
      );
    });
    table(
      'acc-table',
      [
        { label: 'partner' },
        { label: 'postbacks' },
        { label: 'acceptance' },
        { label: 'rejections by reason', cls: 'text' },
      ],
      rows,
      null,
      'No postbacks in this range',
    );
  }

  function drawReasons(byPartner, days) {
    const only = $('acc-partner').value;
    const perReason = new Map();
    for (const [p, d] of byPartner) {
      if (only && p !== only) continue;
      for (const [day, c] of d)
        for (const [k, n] of Object.entries(c.reasons)) {
          if (!perReason.has(k)) perReason.set(k, new Map());
          perReason.get(k).set(day, (perReason.get(k).get(day) || 0) + n);
        }
    }
    chart('acc-reasons', {
      type: 'bar',
      data: {
        labels: days,
        datasets: [...perReason.keys()].sort().map((k, i) => ({
          label: k,
          data: days.map((d) => perReason.get(k).get(d) || 0),
          backgroundColor: COLORS[(i + 3) % COLORS.length],
        })),
      },
      options: {
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  async function loadReconciliation() {
    const { from, to } = range();
    const level = DRILL[Math.min(state.drill.length, DRILL.length - 1)];
    const filters = Object.fromEntries(state.drill.map((f) => [f.param, f.value]));
    const params = { from, to, group_by: level.dim, ...filters };
    const r = await api(`/v1/reports/reconciliation?${query(params)}`);
    showSource(r);
    state.reconParams = params;

    const crumbs = [el('a', { onclick: () => drillTo(0) }, 'All offers')];
    state.drill.forEach((f, i) => {
      crumbs.push(el('span', { class: 'sep' }, '›'));
      crumbs.push(
        i === state.drill.length - 1 && state.drill.length === DRILL.length
          ? el('span', {}, `${f.label} ${f.value}`)
          : el('a', { onclick: () => drillTo(i + 1) }, `${f.label} ${f.value}`),
      );
    });
    $('recon-crumbs').replaceChildren(...crumbs);
    const canDrill = state.drill.length < DRILL.length - 1;
    $('recon-hint').textContent = canDrill
      ? `Grouped by ${level.label}. Click a row to see it by ${DRILL[state.drill.length + 1].label}.`
      : `Grouped by ${level.label}.`;

    const head = [
      { label: level.label },
      { label: 'cur', cls: 'text' },
      { label: 'postbacks' },
      { label: 'accept %' },
      { label: 'dup' },
      { label: 'rejected' },
      { label: 'soft %' },
      { label: 'held' },
      { label: 'approved' },
      { label: 'released' },
      { label: 'reversed' },
      { label: 'revenue' },
      { label: 'payout' },
      { label: 'margin' },
      { label: 'payout / appr.' },
      { label: 'rewards', cls: 'text' },
    ];
    // Money in the row's currency (the cur column), as exact decimals.
    const cells = (first, row) => [
      el('td', { class: 'text' }, first),
      el('td', { class: 'text' }, row.currency),
      el('td', {}, int(row.postbacks)),
      el('td', {}, pct(row.acceptance_rate)),
      el('td', {}, int(row.duplicates)),
      el('td', { title: reasonsTitle(row.rejected_by_reason) }, int(row.rejected_postbacks)),
      el('td', {}, pct(row.soft_reject_rate)),
      el('td', { title: `${formatMicros(row.held_micros)} at stake` }, int(row.held)),
      el('td', {}, int(row.approved)),
      el('td', {}, int(row.released)),
      el('td', {}, int(row.reversed)),
      el('td', { class: 'money', dataset: { col: 'revenue' } }, formatMicros(row.revenue_micros)),
      el(
        'td',
        { class: 'money', dataset: { col: 'payout' }, title: 'publisher payout, net of reversals' },
        formatMicros(row.payout_micros),
      ),
      el('td', { class: 'money', dataset: { col: 'margin' } }, formatMicros(row.margin_micros)),
      el(
        'td',
        {
          class: 'money',
          dataset: { col: 'payout-per-approved' },
          title: 'net payout per approved conversion (the effective payout per source)',
        },
        row.payout_per_approved_micros === null ? '–' : formatMicros(row.payout_per_approved_micros),
      ),
      el(
        'td',
        { class: 'text', dataset: { col: 'rewards' }, title: rewardsTitle(row.rewards) },
        rewardsText(row.rewards),
      ),
    ];
    const rows = r.rows.map((row) => {
      const value = row[level.column];
      const drillable = canDrill && value !== null && value !== undefined;
      return el(
        'tr',
        {
          class: drillable ? 'drill' : undefined,
          title: drillable ? `show ${dimText(value)} by ${DRILL[state.drill.length + 1].label}` : undefined,
          onclick: drillable ? () => drillInto(level, value) : undefined,
        },
        cells(dimText(value), row),
      );
    });
    const foot = r.totals.map((t) => el('tr', { class: 'total' }, cells('Total', t)));
    table('recon-table', head, rows, foot, 'No postbacks in this range');
  }

  function reasonsTitle(reasons) {
    const e = Object.entries(reasons || {});
    return e.length ? e.map(([k, n]) => `${k}: ${n}`).join('\n') : undefined;
  }
  function drillInto(level, value) {
    state.drill.push({ param: level.param, label: level.label, value });
    void load('reconciliation');
  }
  function drillTo(depth) {
    state.drill = state.drill.slice(0, depth);
    void load('reconciliation');
  }

  async function downloadCsv() {
    const params = { ...(state.reconParams || range()), format: 'csv' };
    const token = session.getItem(TOKEN_KEY);
    const res = await fetch(`/v1/reports/reconciliation?${query(params)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (!res.ok) return showBanner(`CSV: ${res.status}`);
    const url = URL.createObjectURL(await res.blob());
    el('a', { href: url, download: `reconciliation_${params.from}_${params.to}.csv` }).click();
    setTimeout(() => URL.revokeObjectURL(url), 5000);
  }

  async function loadLatency() {
    const { from, to } = range();
    const [all, perOffer] = await Promise.all([
      api(`/v1/reports/latency?${query({ from, to, group_by: '' })}`),
      api(`/v1/reports/latency?${query({ from, to, group_by: 'offer' })}`),
    ]);
    showSource(all);
    const titles = {
      click_to_conversion: 'Click to conversion',
      postback_delay: 'Postback delay (first postback to a later status)',
    };
    const boxes = ['click_to_conversion', 'postback_delay'].map((metric) => {
      const row = all.rows.find((x) => x.metric === metric);
      const id = `lat-${metric}`;
      return {
        id,
        row,
        node: el(
          'figure',
          { class: 'chart', dataset: { metric } },
          el('figcaption', {}, titles[metric]),
          el(
            'div',
            { class: 'cards' },
            card('count', int(row ? row.count : 0)),
            card('p50', duration(row && row.p50_ms)),
            card('p90', duration(row && row.p90_ms)),
            card('p99', duration(row && row.p99_ms)),
            card('mean', duration(row && row.mean_ms)),
          ),
          el('div', { class: 'canvas-box short' }, el('canvas', { id })),
        ),
      };
    });
    $('lat-metrics').replaceChildren(...boxes.map((b) => b.node));
    for (const b of boxes) {
      const counts = new Map((b.row ? b.row.buckets : []).map((x) => [x.le_ms, x.count]));
      chart(b.id, {
        type: 'bar',
        data: {
          labels: LATENCY_BUCKETS.map(([, label]) => label),
          datasets: [
            {
              label: 'conversions',
              data: LATENCY_BUCKETS.map(([le]) => counts.get(le) || 0),
              backgroundColor: '#2563eb',
            },
          ],
        },
        options: {
          plugins: { legend: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        },
      });
    }
    const rows = perOffer.rows.map((x) =>
      el(
        'tr',
        {},
        el('td', {}, dimText(x.offer_id)),
        el('td', { class: 'text' }, x.metric),
        el('td', {}, int(x.count)),
        el('td', {}, duration(x.p50_ms)),
        el('td', {}, duration(x.p90_ms)),
        el('td', {}, duration(x.p99_ms)),
        el('td', {}, duration(x.mean_ms)),
      ),
    );
    table(
      'lat-table',
      [
        { label: 'offer' },
        { label: 'metric', cls: 'text' },
        { label: 'count' },
        { label: 'p50' },
        { label: 'p90' },
        { label: 'p99' },
        { label: 'mean' },
      ],
      rows,
      null,
      'No conversions in this range',
    );
  }

  async function loadReviews() {
    const r = await api('/v1/admin/reviews?limit=200');
    $('review-count').textContent = r.count ? String(r.count) : '';
    $('reviews-empty').hidden = r.items.length > 0;
    $('reviews-who').textContent = mayDecide()
      ? `Decisions are written on the ledger under your token's name: ${state.me.name}.`
      : `Read only: ${state.me ? state.me.name : 'this token'} is a viewer (deciding needs the reviewer role).`;
    $('reviews-list').replaceChildren(...r.items.map(reviewCard));
  }

  function reviewCard(item) {
    const ev = item.evidence || {};
    const note = el('textarea', { placeholder: 'note (required): what you checked', maxlength: 1000 });
    const result = el('span', { class: 'result', role: 'status' });
    const node = el('article', {
      class: 'review',
      dataset: { conversionId: item.conversion_id, transactionId: item.transaction_id },
    });
    const decide = async (action, buttons) => {
      if (!note.value.trim()) {
        result.className = 'result error';
        result.textContent = 'A note is required.';
        note.focus();
        return;
      }
      buttons.forEach((b) => (b.disabled = true));
      try {
        const r = await api(`/v1/admin/reviews/${encodeURIComponent(item.conversion_id)}/${action}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ note: note.value.trim() }),
        });
        node.classList.add('decided');
        const left = Number($('review-count').textContent || '0') - 1;
        $('review-count').textContent = left > 0 ? String(left) : '';
        result.className = 'result ok';
        result.textContent = `${r.status} by ${r.entry.operator}: ledger entry ${r.entry.entry_id}`;
        note.disabled = true;
      } catch (e) {
        result.className = 'result error';
        result.textContent = e.status ? `${e.status} ${e.code}: ${e.message}` : e.message;
        if (e.status !== 409) buttons.forEach((b) => (b.disabled = false));
      }
    };
    const approve = el('button', { class: 'primary', type: 'button' }, 'Approve');
    const reject = el('button', { class: 'danger', type: 'button' }, 'Reject');
    approve.onclick = () => decide('approve', [approve, reject]);
    reject.onclick = () => decide('reject', [approve, reject]);
    const click = ev.click || {};
    const pb = ev.postback || {};
    const row = (k, v) => [
      el('dt', {}, k),
      el('dd', {}, v === null || v === undefined || v === '' ? '–' : v),
    ];
    node.append(
      el(
        'div',
        { class: 'head' },
        el(
          'span',
          {},
          el('span', { class: 'pill' }, item.reason_code),
          ' ',
          el('code', {}, item.conversion_id),
        ),
        el('span', { class: 'amount' }, money(item.amount_micros, item.currency)),
      ),
      el(
        'dl',
        {},
        row('held at', item.held_at),
        row('partner / offer', `${item.partner_id} / ${item.offer_id}`),
        row(
          'publisher',
          `${dimText(item.publisher_id)} · source ${dimText(item.sub1)} · ${dimText(item.placement)} · ${dimText(item.geo)}`,
        ),
        row('transaction', item.transaction_id),
        row('click', item.click_id),
        row('click → conversion', duration(ev.click_to_conversion_ms)),
        row('click as recorded', [click.ip, click.device, click.user_agent].filter(Boolean).join(' · ')),
        row('postback', pb.event_id ? `${pb.event_id} at ${pb.received_at} from ${pb.source_ip}` : null),
        row('postback payout', pb.payout_micros ? money(pb.payout_micros, item.currency) : null),
        row(
          'source today',
          ev.source_today ? `${ev.source_today.decided} decided, ${ev.source_today.rejected} rejected` : null,
        ),
      ),
      ...(mayDecide() ? [note, el('div', { class: 'actions' }, approve, reject, result)] : []),
    );
    return node;
  }

  async function loadAlerts() {
    let body;
    try {
      body = await api('/v1/admin/alerts');
    } catch (e) {
      if (e.status === 404) {
        $('alerts-note').textContent = 'Alerts not available on this gateway.';
        $('alerts-table').replaceChildren();
        return;
      }
      throw e;
    }
    const items = Array.isArray(body) ? body : body.items || body.alerts || [];
    $('alerts-note').textContent = items.length ? `${items.length} active alert(s)` : 'No active alerts.';
    const cols = ['severity', 'rule', 'subject', 'summary', 'first_fired_at', 'evidence'];
    const show = (v) => (v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
    table(
      'alerts-table',
      cols.map((k) => ({ label: k.replace(/_/g, ' '), cls: 'text' })),
      items.map((a) =>
        el(
          'tr',
          {},
          cols.map((k) =>
            el('td', { class: k === 'severity' ? `text sev-${a.severity}` : 'text' }, show(a[k]) ?? '–'),
          ),
        ),
      ),
      null,
      'No active alerts',
    );
  }

  async function loadLaunch() {
    const { from, to } = range();
    const partners = await api('/v1/admin/partners');
    const list = Array.isArray(partners) ? partners : partners.items || [];
    const checks = await Promise.all(
      list.map((p) => api(`/v1/admin/launch-check?${query({ from, to, partner_id: p.id })}`)),
    );
    const criteria = checks[0] ? checks[0].results.map((r) => r.criterion) : [];
    table(
      'launch-table',
      [
        { label: 'partner', cls: 'text' },
        { label: 'result', cls: 'text' },
        ...criteria.map((c) => ({ label: c, cls: 'text' })),
      ],
      checks.map((c, i) =>
        el(
          'tr',
          {},
          el('td', { class: 'text' }, list[i].id),
          el('td', { class: c.pass ? 'text pass' : 'text fail' }, c.pass ? 'PASS' : 'FAIL'),
          ...c.results.map((r) =>
            el('td', { class: r.pass ? 'text pass' : 'text fail', title: r.detail }, r.detail),
          ),
        ),
      ),
      null,
      'No partners',
    );
  }

  async function loadLag() {
    const r = await api('/v1/admin/consumer-lag');
    const total = r.groups.reduce((n, g) => n + g.lag, 0);
    $('lag-cards').replaceChildren(
      card('total lag', int(total)),
      card('groups', int(r.groups.length)),
      card('topic prefix', r.topic_prefix || '(none)'),
    );
    // The prefix is shown once above; topic names read better without it.
    const topic = (t) =>
      r.topic_prefix && t.startsWith(r.topic_prefix) ? t.slice(r.topic_prefix.length) : t;
    const perTopic = [];
    for (const g of r.groups) {
      const byTopic = new Map();
      for (const p of g.partitions) byTopic.set(topic(p.topic), (byTopic.get(topic(p.topic)) || 0) + p.lag);
      for (const [t, lag] of byTopic) perTopic.push({ label: `${g.group_id} · ${t}`, lag });
    }
    chart('lag-chart', {
      type: 'bar',
      data: {
        labels: perTopic.map((x) => x.label),
        datasets: [{ label: 'lag', data: perTopic.map((x) => x.lag), backgroundColor: '#dc6803' }],
      },
      options: {
        indexAxis: 'y',
        plugins: { legend: { display: false } },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
    const rows = [];
    for (const g of r.groups) {
      if (!g.partitions.length)
        rows.push(
          el(
            'tr',
            {},
            el('td', {}, g.group_id),
            el('td', { class: 'text' }, `${g.state}, ${g.members} member(s)`),
            el('td', { class: 'text', colspan: 4 }, 'no committed offsets yet'),
          ),
        );
      for (const p of g.partitions)
        rows.push(
          el(
            'tr',
            { dataset: { group: g.group_id } },
            el('td', {}, g.group_id),
            el('td', { class: 'text' }, `${g.state}, ${g.members} member(s)`),
            el('td', { class: 'text' }, `${topic(p.topic)} [${p.partition}]`),
            el('td', {}, p.committed_offset === null ? '–' : int(p.committed_offset)),
            el('td', {}, int(p.log_end_offset)),
            el('td', {}, int(p.lag)),
          ),
        );
    }
    table(
      'lag-table',
      [
        { label: 'group' },
        { label: 'state', cls: 'text' },
        { label: 'topic [partition]', cls: 'text' },
        { label: 'committed' },
        { label: 'log end' },
        { label: 'lag' },
      ],
      rows,
      null,
      'No consumer group reads the topics yet',
    );
  }

  /** The fields of `after` that differ from `before`, as "field: old → new" (a whole record when created or removed). */
  function changes(before, after) {
    const show = (v) => {
      const t = v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v);
      return t.length > 80 ? `${t.slice(0, 77)}...` : t;
    };
    if (before === null || before === undefined)
      return after === null || after === undefined ? '' : `created: ${show(after)}`;
    if (after === null || after === undefined) return `removed: ${show(before)}`;
    if (typeof before !== 'object' || typeof after !== 'object') return `${show(before)} → ${show(after)}`;
    return [...new Set([...Object.keys(before), ...Object.keys(after)])]
      .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
      .map(
        (k) =>
          `${k}: ${show(before[k] === undefined ? '–' : before[k])} → ${show(after[k] === undefined ? '–' : after[k])}`,
      )
      .join('\n');
  }

  async function loadAudit(opts = {}) {
    if (opts.reset) state.auditPages = [];
    const beforeId = state.auditPages[state.auditPages.length - 1];
    const r = await api(`/v1/admin/audit?${query({ limit: 100, before_id: beforeId })}`);
    state.auditNext = r.next_before_id;
    $('audit-older').disabled = !r.next_before_id;
    $('audit-newest').disabled = state.auditPages.length === 0;
    $('audit-note').textContent =
      `${r.items.length} change(s)${beforeId ? ' (older page)' : ', newest first'}`;
    table(
      'audit-table',
      [
        { label: 'when (UTC)', cls: 'text' },
        { label: 'operator', cls: 'text' },
        { label: 'action', cls: 'text' },
        { label: 'subject', cls: 'text' },
        { label: 'before → after', cls: 'text' },
      ],
      r.items.map((a) =>
        el(
          'tr',
          { dataset: { action: a.action } },
          el('td', { class: 'text' }, a.at.slice(0, 19).replace('T', ' ')),
          el('td', { class: 'text' }, `${a.operator} (${a.role})`),
          el('td', { class: 'text' }, a.action),
          el('td', { class: 'text' }, a.subject),
          el(
            'td',
            { class: 'text changes', title: JSON.stringify({ request: a.request }) },
            changes(a.before, a.after),
          ),
        ),
      ),
      null,
      'No admin changes yet',
    );
  }

  /** A partner's postback log (GET /v1/admin/partners/:id/postbacks), refused ones included. */
  async function loadPostbacks(opts = {}) {
    if (opts.reset) state.postbackPages = [];
    const partner = $('postbacks-partner').value.trim();
    const head = [
      { label: 'received (UTC)', cls: 'text' },
      { label: 'kind', cls: 'text' },
      { label: 'transaction', cls: 'text' },
      { label: 'click', cls: 'text' },
      { label: 'status', cls: 'text' },
      { label: 'outcome / answer', cls: 'text' },
      { label: 'reason', cls: 'text' },
      { label: 'ledger entry', cls: 'text' },
      { label: 'publisher', cls: 'text' },
      { label: 'request id', cls: 'text' },
    ];
    if (!partner) {
      $('postbacks-older').disabled = true;
      $('postbacks-newest').disabled = true;
      $('postbacks-note').textContent = 'enter a partner id';
      return table('postbacks-table', head, [], null, 'Enter a partner id to see its postbacks');
    }
    const cursor = state.postbackPages[state.postbackPages.length - 1];
    const r = await api(
      `/v1/admin/partners/${encodeURIComponent(partner)}/postbacks?${query({
        limit: 100,
        transaction_id: $('postbacks-tx').value.trim() || undefined,
        click_id: $('postbacks-click').value.trim() || undefined,
        cursor,
      })}`,
    );
    state.postbackNext = r.next_cursor;
    $('postbacks-older').disabled = !r.next_cursor;
    $('postbacks-newest').disabled = state.postbackPages.length === 0;
    $('postbacks-note').textContent =
      `${r.items.length} postback(s)${cursor ? ' (older page)' : ', newest first'}`;
    table(
      'postbacks-table',
      head,
      r.items.map((p) =>
        el(
          'tr',
          { dataset: { kind: p.kind } },
          el('td', { class: 'text' }, p.received_at.slice(0, 19).replace('T', ' ')),
          el('td', { class: 'text' }, p.kind),
          el('td', { class: 'text' }, p.transaction_id || '–'),
          el('td', { class: 'text' }, p.click_id || '–'),
          el('td', { class: 'text' }, p.status || '–'),
          el(
            'td',
            { class: 'text' },
            p.kind === 'refused' ? `${p.http_status} ${p.code}` : p.outcome || 'not decided yet',
          ),
          el('td', { class: 'text', title: p.detail || p.message || '' }, p.reason || p.message || '–'),
          el('td', { class: 'text' }, p.ledger_entry_id || '–'),
          el('td', { class: 'text' }, p.publisher_delivery || '–'),
          el('td', { class: 'text' }, p.request_id || '–'),
        ),
      ),
      null,
      'No postbacks',
    );
  }

  // ---------- navigation ----------

  function route() {
    const want = location.hash.slice(1);
    state.view = VIEWS.includes(want) ? want : 'acceptance';
    for (const a of document.querySelectorAll('#tabs a'))
      a.classList.toggle('active', a.dataset.tab === state.view);
    for (const v of VIEWS) $(`view-${v}`).hidden = v !== state.view;
    void load(state.view);
    // The badge shows the queue length whatever tab is open.
    if (state.view !== 'reviews')
      api('/v1/admin/reviews?limit=1000')
        .then((r) => ($('review-count').textContent = r.count ? String(r.count) : ''))
        .catch(() => undefined);
  }

  function setRange(days) {
    const to = new Date();
    $('to').value = utcDay(to);
    $('from').value = utcDay(new Date(to.getTime() - (days - 1) * 864e5));
  }

  function stopAutoRefresh() {
    clearInterval(state.timer);
    state.timer = undefined;
    $('auto-refresh').checked = false;
  }

  function init() {
    setRange(7);
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const token = $('token').value.trim();
      if (!token) return;
      session.setItem(TOKEN_KEY, token);
      $('login-error').textContent = '';
      void signedIn();
    });
    $('sign-out').addEventListener('click', () => signOut('Signed out.'));
    $('range').addEventListener('submit', (e) => {
      e.preventDefault();
      if ($('from').value > $('to').value) return showBanner('"From" must not be after "To".');
      void load(state.view);
    });
    for (const b of document.querySelectorAll('#range [data-days]'))
      b.addEventListener('click', () => {
        setRange(Number(b.dataset.days));
        void load(state.view);
      });
    $('audit-older').addEventListener('click', () => {
      if (!state.auditNext) return;
      state.auditPages.push(state.auditNext);
      void load('audit');
    });
    $('audit-newest').addEventListener('click', () => void load('audit', { reset: true }));
    $('postbacks-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void load('postbacks', { reset: true });
    });
    $('postbacks-older').addEventListener('click', () => {
      if (!state.postbackNext) return;
      state.postbackPages.push(state.postbackNext);
      void load('postbacks');
    });
    $('postbacks-newest').addEventListener('click', () => void load('postbacks', { reset: true }));
    $('recon-csv').addEventListener('click', () => void downloadCsv());
    $('auto-refresh').addEventListener('change', (e) => {
      clearInterval(state.timer);
      state.timer = e.target.checked
        ? setInterval(() => {
            // Reloading the review queue would wipe notes being typed.
            if (state.view !== 'reviews' && !document.hidden) void load(state.view);
          }, 10000)
        : undefined;
    });
    window.addEventListener('hashchange', () => {
      if (session.getItem(TOKEN_KEY)) route();
    });
    // Earlier versions kept the token in localStorage: it must not outlive this page's session.
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem('ledger.operator');
    if (session.getItem(TOKEN_KEY)) void signedIn();
    else signOut('');
  }

  init();
})();
