// Renders one poll of the admin API into the page. Every value from the server goes in as text
// (textContent / text nodes), never as markup. Rows and cards are keyed and reused between polls,
// so open editors, expanded details and charts survive a refresh.
import { COLORS, judgeChart, shareChart, sparkline } from './charts.js';

const $ = (id) => document.getElementById(id);
const SPARK_POINTS = 120;
const RECENT_ENDED = 4;
const PALETTE = ['#58a6ff', '#3fb950', '#d29922', '#d2a8ff', '#f778ba', '#79c0ff', '#ffa657', '#7ee787'];
const RUNNING = new Set(['pending', 'progressing', 'paused']);
const TONE = {
  up: 'good', ready: 'good', active: 'good', promoted: 'good', progressing: 'info', pending: 'info',
  starting: 'warn', draining: 'warn', paused: 'warn',
  down: 'bad', disabled: 'bad', rolled_back: 'bad', failed: 'bad', ejected: 'bad',
};

const sparks = new Map(); // cluster + address -> the last polls' figures
let clusterNames = []; // as of the last poll, for the weight editor

/** Creates an element; string children become text nodes, so data is never parsed as HTML. */
function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

/** Shows a state as a coloured pill; the node's other classes stay. */
function pill(node, label) {
  node.textContent = label;
  node.classList.remove('good', 'warn', 'bad', 'info', 'neutral');
  node.classList.add('pill', TONE[label] || 'neutral');
  return node;
}

/**
 * Reconciles parent's keyed children with items: reuses, orders, creates and removes them. A
 * reused node is never detached, so an input in it keeps its focus. {@code after}: a fixed child
 * (a table's thead) the keyed ones follow.
 */
function keyed(parent, items, key, create, update, after = null) {
  const old = new Map();
  for (const child of [...parent.children]) if (child.dataset.key !== undefined) old.set(child.dataset.key, child);
  let prev = after;
  for (const item of items) {
    const k = key(item);
    let node = old.get(k);
    if (node) {
      old.delete(k);
    } else {
      node = create(item);
      node.dataset.key = k;
    }
    update(node, item);
    const want = prev ? prev.nextSibling : parent.firstChild;
    if (node !== want) parent.insertBefore(node, want);
    prev = node;
  }
  for (const node of old.values()) {
    (node.cleanups || []).forEach((f) => f());
    node.remove();
  }
}

const ms = (v) => (v == null || Number.isNaN(v) ? '–' : v < 10 ? v.toFixed(1) + ' ms' : Math.round(v) + ' ms');
const pct = (v) => (v == null ? '–' : (v * 100).toFixed(v > 0 && v < 0.001 ? 3 : 2) + '%');
const time = (epochMillis) => new Date(epochMillis).toLocaleTimeString();
const duration = (millis) => (millis % 1000 === 0 ? millis / 1000 + 's' : millis + 'ms');

/**
 * A colour per cluster, in config order; a cluster named after a colour gets it (blue/green
 * deployments read at a glance).
 */
function clusterColors(names) {
  const named = { blue: '#58a6ff', green: '#3fb950', red: '#f85149', yellow: '#d29922', purple: '#d2a8ff', orange: '#ffa657' };
  const colors = new Map();
  let next = 0;
  for (const name of names) {
    const word = Object.keys(named).find((w) => name.toLowerCase().includes(w));
    colors.set(name, word ? named[word] : PALETTE[next++ % PALETTE.length]);
  }
  return colors;
}

export function render(s, actions) {
  const colors = clusterColors((s.config.config.clusters || []).map((c) => c.name));
  clusterNames = s.clusters.map((c) => c.name);
  header(s);
  listeners(s.listeners);
  routes(s, colors, actions);
  clusters(s, actions);
  deployments(s.deployments, actions);
}

function header(s) {
  pill($('ready'), s.ready ? 'ready' : 'draining');
  $('generation').textContent = String(s.config.generation);
  const endpoints = s.clusters.flatMap((c) => c.endpoints);
  const up = endpoints.filter((e) => e.health === 'up').length;
  const out = endpoints.filter((e) => e.adminState !== 'active' || e.ejected).length;
  $('endpoints-up').textContent = up + ' / ' + endpoints.length;
  $('endpoints-up').className = up < endpoints.length ? 'warn' : 'good';
  $('endpoints-out').textContent = String(out);
  $('endpoints-out').className = out > 0 ? 'warn' : '';
  $('deployments-running').textContent = String(s.deployments.filter((d) => RUNNING.has(d.state)).length);
  $('updated').textContent = time(s.at);
}

function listeners(list) {
  keyed($('listeners').tBodies[0], list, (l) => l.name,
    () => el('tr', {}, el('td', { class: 'name' }), el('td'), el('td', { class: 'mono' }), el('td'), el('td', { class: 'num' })),
    (row, l) => {
      row.cells[0].textContent = l.name;
      row.cells[1].textContent = l.mode;
      row.cells[2].textContent = l.address || l.bind;
      row.cells[2].title = 'configured: ' + l.bind;
      row.cells[3].textContent = l.alpn ? 'TLS (' + l.alpn.join(', ') + ')' : '–';
      row.cells[4].textContent = String(l.connections);
    });
}

function routes(s, colors, actions) {
  const table = $('routes');
  const configured = new Map((s.config.config.routes || []).map((r) => [r.name, r]));
  // One tbody per route: its row, and its weight editor while open.
  keyed(table, s.routes, (r) => r.name, () => routeBody(actions), (body, r) => {
    const c = configured.get(r.name) || {};
    const row = body.rows[0];
    row.cells[0].textContent = r.name;
    const m = c.match || {};
    row.cells[1].textContent = (m.host || '') + (m.pathPrefix || '/');
    splitBar(row.cells[2].firstChild, r.backends, colors);
    row.cells[2].lastChild.textContent = r.overridden ? 'override' : '';
    body.route = r;
  }, table.tHead);
}

function routeBody(actions) {
  const body = el('tbody');
  const edit = el('button', { type: 'button', class: 'small', text: 'weights…' });
  body.append(el('tr', {}, el('td', { class: 'name' }), el('td', { class: 'mono' }),
    el('td', {}, el('div', { class: 'split' }), el('span', { class: 'tag' })), el('td', {}, edit)));
  edit.addEventListener('click', () => {
    if (body.rows.length > 1) {
      body.rows[1].remove();
      return;
    }
    body.append(weightEditor(body, clusterNames, actions));
  });
  return body;
}

function weightEditor(body, clusterNames, actions) {
  const current = new Map(body.route.backends.map((b) => [b.cluster, b.weight]));
  const inputs = new Map();
  const fields = el('div', { class: 'weights' });
  for (const name of clusterNames) {
    const input = el('input', { type: 'number', min: '0', max: '1000000', step: '1', value: String(current.get(name) || 0) });
    input.dataset.cluster = name;
    inputs.set(name, input);
    fields.append(el('label', {}, el('span', { text: name }), input));
  }
  const apply = el('button', { type: 'button', class: 'small primary', text: 'apply' });
  const cancel = el('button', { type: 'button', class: 'small', text: 'cancel' });
  const row = el('tr', { class: 'editor' }, el('td', { colspan: '4' }, fields, apply, cancel));
  apply.addEventListener('click', () => {
    const backends = [];
    for (const [cluster, input] of inputs) {
      const weight = Number(input.value);
      if (weight > 0 || current.has(cluster)) backends.push({ cluster, weight: Math.trunc(weight) });
    }
    row.remove();
    actions.weights(body.route.name, backends);
  });
  cancel.addEventListener('click', () => row.remove());
  return row;
}

function splitBar(bar, backends, colors) {
  const total = backends.reduce((sum, b) => sum + b.weight, 0) || 1;
  keyed(bar, backends, (b) => b.cluster, () => el('span'), (seg, b) => {
    const share = (100 * b.weight) / total;
    seg.style.width = share + '%';
    seg.style.backgroundColor = colors.get(b.cluster) || '#8b949e';
    seg.textContent = share >= 12 ? b.cluster + ' ' + Math.round(share) + '%' : '';
    seg.title = b.cluster + ': weight ' + b.weight + ' (' + share.toFixed(1) + '%)';
    seg.className = b.weight === 0 ? 'zero' : '';
  });
}

function clusters(s, actions) {
  // In the config's order: the API's may change between polls, the page should not.
  const order = new Map((s.config.config.clusters || []).map((c, i) => [c.name, i]));
  const sorted = [...s.clusters].sort((a, b) => (order.get(a.name) ?? 1e9) - (order.get(b.name) ?? 1e9));
  keyed($('clusters'), sorted, (c) => c.name, (c) => clusterCard(c), (card, c) => {
    card.querySelector('.title').textContent = c.name;
    card.querySelector('.balancer').textContent = c.balancer;
    const up = c.endpoints.filter((e) => e.health === 'up' && e.adminState === 'active' && !e.ejected).length;
    const count = card.querySelector('.count');
    count.textContent = up + '/' + c.endpoints.length + ' serving';
    count.className = 'count ' + (up === 0 ? 'bad' : up < c.endpoints.length ? 'warn' : 'good');
    keyed(card.querySelector('tbody'), c.endpoints, (e) => e.address, (e) => endpointRow(c.name, e, actions),
      (row, e) => endpointUpdate(row, c.name, e, s.at));
  });
}

function clusterCard() {
  return el('div', { class: 'card cluster' },
    el('div', { class: 'card-head' }, el('h3', { class: 'title' }), el('span', { class: 'balancer tag' }),
      el('span', { class: 'count' })),
    el('table', { class: 'grid endpoints' },
      el('thead', {}, el('tr', {}, ...['endpoint', 'weight', 'health', 'state', 'in-flight', '', 'conns', 'req/min',
        'p50', 'p99', '', 'errors', '', 'actions'].map((h) => el('th', { text: h })))),
      el('tbody')));
}

function endpointRow(cluster, e, actions) {
  const row = el('tr');
  const cells = ['mono name', 'num', '', '', 'num', 'spark', 'num', 'num', 'num', 'num', 'spark', 'num', 'spark', 'actions'];
  cells.forEach((c) => row.append(el('td', { class: c })));
  row.cells[2].append(el('span'));
  row.cells[3].append(el('span'));
  row.sparks = [
    sparkline(row.cells[5], COLORS.inFlight), sparkline(row.cells[10], COLORS.p99), sparkline(row.cells[12], COLORS.errors),
  ];
  row.cleanups = [() => row.sparks.forEach((p) => p.destroy()), () => sparks.delete(cluster + ' ' + e.address)];
  for (const what of ['drain', 'enable', 'disable']) {
    const b = el('button', { type: 'button', class: 'small ' + what, text: what });
    b.dataset.action = what;
    b.addEventListener('click', () => actions.endpoint(cluster, e.address, what));
    row.cells[13].append(b);
  }
  return row;
}

function endpointUpdate(row, cluster, e, at) {
  const c = row.cells;
  c[0].textContent = e.address;
  c[1].textContent = String(e.weight);
  pill(c[2].firstChild, e.ejected ? 'ejected' : e.health);
  pill(c[3].firstChild, e.adminState);
  row.dataset.state = e.adminState;
  c[4].textContent = String(e.inFlight);
  c[6].textContent = String(e.connections);
  c[7].textContent = String(e.requestsLastMinute);
  c[8].textContent = e.requestsLastMinute ? ms(e.p50Millis) : '–';
  c[9].textContent = e.requestsLastMinute ? ms(e.p99Millis) : '–';
  c[11].textContent = e.requestsLastMinute ? pct(e.errorRate) : '–';
  c[11].className = 'num' + (e.errorRate >= 0.01 ? ' bad' : e.errorRate > 0 ? ' warn' : '');
  const key = cluster + ' ' + e.address;
  const h = sparks.get(key) || { t: [], inFlight: [], p99: [], errors: [] };
  sparks.set(key, h);
  h.t.push(at / 1000);
  h.inFlight.push(e.inFlight);
  h.p99.push(e.requestsLastMinute ? e.p99Millis : null);
  h.errors.push(e.requestsLastMinute ? e.errorRate * 100 : null);
  if (h.t.length > SPARK_POINTS) Object.values(h).forEach((a) => a.shift());
  row.sparks[0].update(h.t, h.inFlight);
  row.sparks[1].update(h.t, h.p99);
  row.sparks[2].update(h.t, h.errors);
  for (const b of c[13].children) {
    const a = b.dataset.action;
    b.disabled = (a === 'drain' && e.adminState !== 'active') || (a === 'enable' && e.adminState === 'active')
      || (a === 'disable' && e.adminState === 'disabled');
  }
}

function deployments(list, actions) {
  const started = (d) => (d.history.length ? d.history[0].at : 0);
  const running = list.filter((d) => RUNNING.has(d.state)).sort((a, b) => started(b) - started(a));
  const ended = list.filter((d) => !RUNNING.has(d.state)).sort((a, b) => started(b) - started(a)).slice(0, RECENT_ENDED);
  $('no-deployments').hidden = list.length > 0;
  keyed($('deployments'), [...running, ...ended], (d) => d.id, (d) => deploymentCard(d, actions), deploymentUpdate);
}

function deploymentCard(d, actions) {
  const card = el('details', { class: 'card deployment' });
  card.open = RUNNING.has(d.state);
  const buttons = el('span', { class: 'actions' });
  for (const what of ['promote', 'pause', 'resume', 'rollback']) {
    const b = el('button', { type: 'button', class: 'small ' + what, text: what });
    b.dataset.action = what;
    b.addEventListener('click', (event) => {
      event.preventDefault(); // a click in <summary> would fold the card
      actions.deployment(d.id, what);
    });
    buttons.append(b);
  }
  const charts = el('div', { class: 'charts' });
  card.append(
    el('summary', { class: 'card-head' }, el('h3', { class: 'title' }), el('span', { class: 'state' }),
      el('span', { class: 'share' }), el('span', { class: 'spec' }), buttons),
    el('div', { class: 'steps' }), el('div', { class: 'slo' }), charts,
    el('table', { class: 'grid history' },
      el('thead', {}, el('tr', {}, ...['time', 'step', 'share', 'event', 'requests', 'errors', 'error rate', 'p99',
        'baseline req', 'baseline err', 'baseline p99', 'p (latency)', 'p (errors)'].map((h) => el('th', { text: h })))),
      el('tbody')));
  const p99 = el('div', { class: 'chart p99' });
  const errors = el('div', { class: 'chart errors' });
  const share = el('div', { class: 'chart share' });
  charts.append(p99, errors, share);
  card.charts = { p99: judgeChart(p99, 'p99 latency per interval', 'ms'), errors: judgeChart(errors, 'error rate per interval', '%'), share: shareChart(share) };
  card.cleanups = [() => Object.values(card.charts).forEach((c) => c.destroy())];
  return card;
}

function deploymentUpdate(card, d) {
  card.querySelector('.title').textContent = d.id + ' · ' + d.route + ' → ' + d.to;
  pill(card.querySelector('.state'), d.state);
  card.dataset.state = d.state;
  card.querySelector('.share').textContent = d.percent + '% to ' + d.to;
  card.querySelector('.spec').textContent = d.strategy + ', every ' + duration(d.intervalMillis) + ', on failure ' + d.onFailure;
  const running = RUNNING.has(d.state);
  for (const b of card.querySelectorAll('.actions button')) {
    const a = b.dataset.action;
    b.disabled = !running || (a === 'pause' && d.state !== 'progressing') || (a === 'resume' && d.state !== 'paused');
  }
  steps(card.querySelector('.steps'), d);
  const slo = d.slo || {};
  card.querySelector('.slo').textContent = 'SLO: error rate ≤ ' + pct(slo.maxErrorRate) + ', p99 ≤ '
    + (slo.maxP99Millis > 0 ? ms(slo.maxP99Millis) : 'any') + ', at least ' + slo.minRequests + ' requests per verdict'
    + (slo.vsBaseline ? ', not significantly worse than the baseline' : '');

  const verdicts = d.history.filter((h) => h.verdict);
  const x = verdicts.map((h) => h.at / 1000);
  const v = verdicts.map((h) => h.verdict);
  const base = (f) => v.map((e) => (e.baselineRequests > 0 ? f(e) : null));
  card.charts.p99.update([x, v.map((e) => e.p99Millis), base((e) => e.baselineP99Millis),
    v.map(() => (slo.maxP99Millis > 0 ? slo.maxP99Millis : null))]);
  card.charts.errors.update([x, v.map((e) => e.errorRate * 100), base((e) => e.baselineErrorRate * 100),
    v.map(() => slo.maxErrorRate * 100)]);
  const all = d.history;
  // An entry holds the share its interval ran at; the share now follows the last one.
  const shareX = all.map((h) => h.at / 1000);
  const shareY = all.map((h) => h.percent);
  if (all.length) {
    shareX.push(running ? Math.max(Date.now() / 1000, shareX[shareX.length - 1]) : shareX[shareX.length - 1]);
    shareY.push(d.percent);
  }
  card.charts.share.update([shareX, shareY]);
  card.querySelector('.charts').dataset.points = String(verdicts.length);

  keyed(card.querySelector('.history tbody'), [...all].reverse(), (h) => h.at + ' ' + h.event, historyRow, () => {});
}

function steps(box, d) {
  // As the controller walks them (DeploymentSpec.walk): blue/green judges the first share, then 100.
  const walk = d.strategy === 'bluegreen' && d.steps.length > 1 ? [d.steps[0], 100] : d.steps;
  keyed(box, walk, (p) => String(p), () => el('span', { class: 'step' }), (chip, p) => {
    chip.textContent = p + '%';
    const done = d.state === 'promoted' || p < d.percent;
    chip.className = 'step ' + (p === d.percent && d.state !== 'promoted' ? 'current ' + (TONE[d.state] || '') : done ? 'done' : '');
  });
}

function historyRow(h) {
  const v = h.verdict;
  const cells = [time(h.at), String(h.step + 1), h.percent + '%', h.event];
  if (v) {
    cells.push(String(v.requests), String(v.errors), pct(v.errorRate), ms(v.p99Millis), String(v.baselineRequests),
      v.baselineRequests ? pct(v.baselineErrorRate) : '–', v.baselineRequests ? ms(v.baselineP99Millis) : '–',
      v.latencyP < 1 ? v.latencyP.toFixed(3) : '–', v.errorP < 1 ? v.errorP.toFixed(3) : '–');
  } else {
    while (cells.length < 13) cells.push('');
  }
  const row = el('tr', {}, ...cells.map((c, i) => el('td', { class: i === 3 ? 'event' : i > 3 ? 'num' : '', text: c })));
  row.className = v ? (v.outcome === 'FAIL' ? 'fail' : v.outcome === 'PASS' ? 'pass' : '') : 'operator';
  return row;
}
