// The dashboard: polls the admin JSON API, renders it (view.js) and sends the operator's actions.
// The token lives in sessionStorage (this tab only) and goes out as "Authorization: Bearer".
import { render } from './view.js';

const TOKEN_KEY = 'gatehouse.adminToken';
const $ = (id) => document.getElementById(id);

class Unauthorized extends Error {}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let token = sessionStorage.getItem(TOKEN_KEY);
let timer = null;
let inFlight = false;

async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method, headers, cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) throw new Unauthorized();
  const json = (response.headers.get('content-type') || '').startsWith('application/json');
  const data = json ? await response.json() : await response.text();
  if (!response.ok && !(path === '/ready' && response.status === 503)) {
    const text = data && data.error ? data.error : 'HTTP ' + response.status;
    throw new ApiError(response.status, (data && data.field ? data.field + ': ' : '') + text);
  }
  return data;
}

async function poll() {
  if (inFlight) return;
  inFlight = true;
  try {
    const [config, listeners, routes, clusters, deployments, ready] = await Promise.all([
      api('GET', '/api/v1/config'), api('GET', '/api/v1/listeners'), api('GET', '/api/v1/routes'),
      api('GET', '/api/v1/clusters'), api('GET', '/api/v1/deployments'), api('GET', '/ready'),
    ]);
    render({ config, listeners, routes, clusters, deployments, ready: ready.ready, at: Date.now() }, actions);
    document.body.dataset.loaded = 'true';
  } catch (e) {
    failed(e);
  } finally {
    inFlight = false;
  }
}

function failed(e) {
  console.error(e.stack || e);
  if (e instanceof Unauthorized) {
    askToken(token ? 'That token was refused (401). Enter the current one.' : '');
  } else {
    $('ready').textContent = 'unreachable';
    $('ready').className = 'pill bad';
    say(e instanceof ApiError ? e.message : 'admin API unreachable: ' + e.message, true);
  }
}

function schedule() {
  clearInterval(timer);
  timer = null;
  const every = Number($('refresh').value);
  if (every > 0 && !$('token-dialog').open) timer = setInterval(poll, every);
}

function askToken(why) {
  clearInterval(timer);
  timer = null;
  $('token-error').textContent = why;
  $('token-input').value = '';
  if (!$('token-dialog').open) $('token-dialog').showModal();
  $('token-input').focus();
}

function useToken(event) {
  event.preventDefault(); // nothing is submitted anywhere: the form only collects the token
  token = $('token-input').value.trim();
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token-dialog').close();
  $('forget-token').hidden = false;
  schedule();
  poll();
}

function say(text, bad = false) {
  const box = $('message');
  box.textContent = text;
  box.className = bad ? 'bad' : 'good';
  box.hidden = false;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { box.hidden = true; }, bad ? 10000 : 5000);
}

/** Runs one state-changing call, reports it and refreshes at once. */
async function act(label, method, path, body) {
  try {
    const result = await api(method, path, body);
    say(label + ': done' + (result && result.warning ? ' - ' + result.warning : ''));
  } catch (e) {
    if (e instanceof Unauthorized) {
      askToken('The token was refused (401). Enter it, then repeat: ' + label + '.');
      return;
    }
    say(label + ' failed: ' + e.message, true);
  }
  poll();
}

const seg = encodeURIComponent;

const actions = {
  endpoint(cluster, address, what) {
    if (what === 'disable' && !confirm('Disable ' + address + ' in ' + cluster + ' at once (in-flight requests are cut)?')) return;
    act(what + ' ' + address, 'POST', `/api/v1/clusters/${seg(cluster)}/endpoints/${seg(address)}/${what}`);
  },
  weights(route, backends) {
    act('weights of ' + route, 'PUT', `/api/v1/routes/${seg(route)}/backends`, backends);
  },
  deployment(id, what) {
    if ((what === 'promote' || what === 'rollback') && !confirm(what + ' deployment ' + id + '?')) return;
    act(what + ' ' + id, 'POST', `/api/v1/deployments/${seg(id)}/${what}`);
  },
};

$('token-form').addEventListener('submit', useToken);
$('token-dialog').addEventListener('cancel', (e) => e.preventDefault()); // no data without a token
$('refresh').addEventListener('change', schedule);
$('forget-token').hidden = !token;
$('forget-token').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  $('forget-token').hidden = true;
  askToken('');
});
schedule();
poll();
