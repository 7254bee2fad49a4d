// The operators' console: reads and changes the deployment through the admin JSON API
// (/api/admin/...) with the admin token given on this page, kept for this tab only.
const KEY = 'shop-admin-token';
const $ = (selector) => document.querySelector(selector);

/** An element with attributes (on* are listeners) and children; text is always text, never HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name in el && name !== 'list') el[name] = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  return el;
}
const table = (head, rows) => h('table', {}, h('thead', {}, h('tr', {}, head.map((cell) => h('th', {}, cell)))), h('tbody', {}, rows));
const json = (value) => h('pre', {}, JSON.stringify(value, null, 2));
const body = (id) => $(`#${id} .body`);
const fill = (id, ...children) => body(id).replaceChildren(...children.flat(Infinity));

function status(text, error = false) {
  const el = $('#status');
  el.textContent = text;
  el.className = error ? 'error' : '';
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
    this.status = status;
  }
}

async function api(method, path, payload) {
  const headers = { authorization: `Bearer ${sessionStorage.getItem(KEY)}` };
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`/api/admin/${path}`, { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload) });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Runs an action from a button, then shows its outcome and reloads. */
async function act(label, fn) {
  try {
    await fn();
    status(`${label}: done`);
  } catch (error) {
    status(`${label}: ${error.message}`, true);
  }
  await load();
}

// --- 1. Module map, with live rates from GET traffic/live: counters every process records in the
// database (calls in minute buckets, flushed every 10 s; events as PostgreSQL's insert counts of
// each outbox and inbox), differenced between reads every POLL_MS and averaged over WINDOW_MS.
const POLL_MS = 5_000;
const WINDOW_MS = 30_000;
let counters; // the last read: key → count; bucketed keys are `name|minute`
let samples = []; // { at, deltas: name → increase since the sample before }; the first is the baseline
let timer;
let polling = false;
let processes = [];
let topologyShown;

function ingest(live) {
  const next = new Map();
  for (const c of live.calls) next.set(`call ${c.caller} ${c.callee} ${c.via}|${c.minute}`, c.calls);
  for (const r of live.requests) next.set(`req ${r.module}|${r.minute}`, r.requests);
  for (const e of live.events) {
    if (e.published !== null) next.set(`pub ${e.module}`, e.published);
    if (e.handled !== null) next.set(`handled ${e.module}`, e.handled);
  }
  processes = live.processes;
  const at = performance.now();
  const before = counters;
  counters = next;
  // The answer holds the last three minutes' buckets: reads further apart than that lose some.
  if (!before || at - samples.at(-1).at > 90_000) return void (samples = [{ at, deltas: new Map() }]);
  const deltas = new Map();
  for (const [key, value] of next) {
    const [name, bucket] = key.split('|');
    // A bucket new since the last read counts from 0; a running total needs a first value, and one that went down restarted.
    const old = before.get(key) ?? (bucket ? 0 : undefined);
    if (old !== undefined && value >= old) deltas.set(name, (deltas.get(name) ?? 0) + value - old);
  }
  samples.push({ at, deltas });
  while (samples.length > 2 && samples[1].at <= at - WINDOW_MS) samples.shift();
}

/** Per second over the samples kept, of the counters named `name` or `name …`; undefined before two reads, or for events whose tables are not in the database. */
function rate(name) {
  if (samples.length < 2 || (/^(pub|handled) /.test(name) && !counters.has(name))) return undefined;
  let sum = 0;
  for (const sample of samples.slice(1)) for (const [key, delta] of sample.deltas) if (key === name || key.startsWith(`${name} `)) sum += delta;
  return sum / ((samples.at(-1).at - samples[0].at) / 1000);
}
const perSecond = (value) => (value === undefined ? '–' : value >= 10 ? String(Math.round(value)) : value.toFixed(1));

function renderRates() {
  if (!counters) return;
  for (const row of document.querySelectorAll('#map tr[data-module]')) {
    for (const kind of ['req', 'pub', 'handled']) row.querySelector(`.${kind}`).textContent = perSecond(rate(`${kind} ${row.dataset.module}`));
  }
  // `caller callee` pairs of the last 3 minutes; a module's own routes (`http`) are its requests/s.
  const edges = [...new Set([...counters.keys()].filter((key) => key.startsWith('call ')).map((key) => key.split(/[ |]/).slice(1, 3).join(' ')))].filter((edge) => !edge.startsWith('http ')).sort();
  $('#map .edges').replaceChildren(
    edges.length
      ? table(
          ['from', 'to', 'calls/s', 'of which over HTTP'],
          edges.map((edge) =>
            h('tr', { 'data-edge': edge }, edge.split(' ').map((module, i) => h('td', {}, i ? `→ ${module}` : module)), h('td', { className: 'rate' }, perSecond(rate(`call ${edge}`))), h('td', { className: 'remote' }, perSecond(rate(`call ${edge} remote`)))),
          ),
        )
      : h('p', { className: 'muted' }, 'No calls between modules in the last 3 minutes.'),
    h('p', { className: 'note' }, `Per second over the last ${Math.round(WINDOW_MS / 1000)} s, from what every process recorded (${processes.join(', ') || 'none yet'}); calls are written every 10 s, so a rate appears that long after the traffic.`),
  );
}

async function poll() {
  if (polling || document.hidden || !sessionStorage.getItem(KEY)) return;
  polling = true;
  try {
    ingest(await api('GET', 'traffic/live'));
    renderRates();
    await followRollouts();
  } catch {
    // the next full load says what is wrong
  } finally {
    polling = false;
  }
}

function renderMap(topology) {
  fill(
    'map',
    table(
      ['module', 'hosted by (processes)', 'remote %', 'shadow', 'requests/s', 'events/s published', 'events/s handled'],
      topology.modules.map((m) =>
        h(
          'tr',
          { 'data-module': m.module },
          h('td', {}, h('b', {}, m.module)),
          h('td', {}, m.hosted_by.length ? m.hosted_by.map((p) => h('span', { className: 'tag' }, p)) : h('span', { className: 'bad' }, 'no live host')),
          h('td', {}, m.remote_percent ?? '–'),
          h('td', {}, m.shadow === null ? '–' : m.shadow ? 'on' : 'off'),
          ['req', 'pub', 'handled'].map((kind) => h('td', { className: `rate ${kind}` }, '–')),
        ),
      ),
    ),
    h('h3', {}, 'Calls between modules'),
    h('div', { className: 'edges' }, h('p', { className: 'muted' }, 'Reading…')),
    h('h3', {}, `Replicas (${topology.replicas.length})`),
    table(
      ['process', 'replica', 'modules', 'remote copies of', 'version', 'host / pid', 'last seen'],
      topology.replicas.map((r) =>
        h('tr', {}, h('td', {}, r.process), h('td', {}, r.id === topology.this_process.replica ? `${r.id} (this one)` : r.id), h('td', {}, r.modules.join(', ')), h('td', {}, r.switchable.join(', ') || '–'), h('td', {}, r.version), h('td', {}, `${r.host} / ${r.pid}`), h('td', {}, new Date(r.last_seen).toLocaleTimeString())),
      ),
    ),
  );
  renderRates();
}

// --- 2. Topology controls, and rollouts: their steps and state, Abort, and a form to start one
const time = (iso) => new Date(iso).toLocaleTimeString();

function rolloutView(module, rollout) {
  const running = rollout?.state === 'running';
  const o = rollout?.observed;
  return [
    rollout
      ? h(
          'div',
          { className: 'rollout' },
          h('b', { className: `state ${rollout.state}` }, rollout.state.replace('_', ' ')),
          ' ',
          rollout.steps.map((step, i) => h('span', { className: `step ${rollout.state === 'completed' || i < rollout.step_index ? 'done' : i === rollout.step_index ? 'now' : ''}` }, `${step}%`)),
          h('div', { className: 'muted' }, `hold ${rollout.hold_ms / 1000} s a step · started ${time(rollout.started_at)}${rollout.ended_at ? ` · ended ${time(rollout.ended_at)}` : ` · this step since ${time(rollout.step_started_at)}`}`),
          h('div', { className: 'muted' }, `observed: ${o.remote_calls} calls to the copy, ${o.remote_errors} failed; ${o.shadow_mismatches}/${o.shadow_calls} shadowed reads differed; p99 ${o.remote_p99_ms ?? '–'} ms remote, ${o.local_p99_ms ?? '–'} ms local`),
          rollout.waiting_for ? h('div', { className: 'muted' }, rollout.waiting_for) : null,
          rollout.reason ? h('div', { className: 'muted' }, rollout.reason) : null,
          running ? h('button', { onclick: () => act(`${module} rollout abort`, () => api('DELETE', `topology/${module}/rollout`)) }, 'Abort rollout') : null,
        )
      : h('span', { className: 'muted' }, 'none yet'),
    running ? null : startForm(module),
  ];
}

/** Defaults: docs/scaling.md (the limits the API applies when none is given). */
function startForm(module) {
  const field = (label, name, value, attrs = {}) => h('label', {}, `${label} `, h('input', { name, value, required: true, ...attrs }));
  const number = (label, name, value, step, max) => field(label, name, value, { type: 'number', min: 0, max, step });
  const form = h(
    'form',
    {
      className: 'start',
      onsubmit: (event) => {
        event.preventDefault();
        const v = (name) => form.elements[name].value;
        const body = {
          steps: v('steps').split(/[\s,]+/).filter(Boolean).map(Number),
          hold_seconds: Number(v('hold_seconds')),
          limits: Object.fromEntries(['max_error_rate', 'max_mismatch_rate', 'max_p99_increase_ms', 'min_calls'].map((name) => [name, Number(v(name))])),
        };
        act(`${module} rollout start`, () => api('POST', `topology/${module}/rollout`, body));
      },
    },
    field('steps (%)', 'steps', '1, 5, 25, 50, 100', { size: 16, pattern: '[0-9 ,]+' }),
    number('hold (s a step)', 'hold_seconds', 300, 1, 86400),
    number('max error rate', 'max_error_rate', 0.01, 0.001, 1),
    number('max mismatch rate', 'max_mismatch_rate', 0, 0.001, 1),
    number('max p99 increase (ms)', 'max_p99_increase_ms', 250, 1, 60000),
    number('min calls a step', 'min_calls', 20, 1, 1000000),
    h('button', {}, 'Start rollout'),
  );
  return h('details', {}, h('summary', {}, 'Start a rollout…'), form);
}

function renderControls(topology) {
  const switchable = topology.modules.filter((m) => m.remote_percent !== null || m.shadow !== null);
  if (!switchable.length) return fill('controls', h('p', { className: 'muted' }, 'No module has a remote copy: nothing to switch (set <MODULE>_URL where it is hosted).'));
  fill(
    'controls',
    table(
      ['module', 'remote percent', 'shadow', 'rollout'],
      switchable.map((m) => {
        const steered = m.rollout?.state === 'running';
        const input = h('input', { type: 'number', min: 0, max: 100, step: 1, value: m.remote_percent ?? 0, disabled: steered, title: steered ? 'a rollout steers it' : undefined, 'aria-label': `${m.module} remote percent` });
        return h(
          'tr',
          { 'data-module': m.module },
          h('td', {}, h('b', {}, m.module)),
          h(
            'td',
            {},
            m.remote_percent === null
              ? '–'
              : [input, ' ', h('button', { disabled: steered, onclick: () => act(`${m.module} remote percent`, () => api('PUT', `topology/${m.module}/remote-percent`, { percent: Number(input.value) })) }, 'Set')],
          ),
          h(
            'td',
            {},
            m.shadow === null
              ? '–'
              : [m.shadow ? 'on ' : 'off ', h('button', { onclick: () => act(`${m.module} shadow`, () => api('PUT', `topology/${m.module}/shadow`, { enabled: !m.shadow })) }, m.shadow ? 'Turn off' : 'Turn on')],
          ),
          h('td', { className: 'rollout-cell' }, m.remote_percent === null ? '–' : rolloutView(m.module, m.rollout)),
        );
      }),
    ),
  );
}

/** A running rollout moves on by itself: its cell follows at each poll, and the page reloads when it ends. */
async function followRollouts() {
  for (const m of topologyShown?.modules ?? []) {
    if (m.rollout?.state !== 'running') continue;
    const now = await api('GET', `topology/${m.module}/rollout`).catch(() => null);
    if (!now) continue;
    if (now.state !== 'running' || now.id !== m.rollout.id) return load();
    m.rollout = now;
    const row = $(`#controls tr[data-module="${m.module}"]`);
    row?.querySelector('.rollout-cell').replaceChildren(...rolloutView(m.module, now).filter(Boolean));
    const input = row?.querySelector('input[type=number]');
    if (input) input.value = now.step_percent;
  }
}

// --- 3. Outbox: failed events
function renderOutbox(events) {
  if (!events.length) return fill('outbox', h('p', { className: 'ok' }, 'No failed events.'));
  const modules = [...new Set(events.map((e) => e.module))];
  fill(
    'outbox',
    modules.map((module) => {
      const mine = events.filter((e) => e.module === module);
      return [
        h('h3', {}, `${module}: ${mine.length} failed`),
        table(
          ['event', 'id', 'attempts', 'last error', 'occurred', ''],
          mine.map((e) =>
            h('tr', { 'data-event': e.id }, h('td', {}, e.event_type), h('td', {}, h('code', {}, e.id)), h('td', {}, e.attempts), h('td', { className: 'bad' }, e.last_error ?? ''), h('td', {}, new Date(e.occurred_at).toLocaleString()), h('td', {}, h('button', { onclick: () => act(`retry ${e.id}`, () => api('POST', `outbox/${e.module}/${e.id}/retry`)) }, 'Retry'))),
          ),
        ),
      ];
    }),
  );
}

// --- 4. Shadow mismatches
function renderMismatches(mismatches) {
  if (!mismatches.length) return fill('mismatches', h('p', { className: 'ok' }, 'No shadow mismatches recorded.'));
  fill(
    'mismatches',
    mismatches.map((m) =>
      h(
        'div',
        { className: 'mismatch' },
        h('h3', {}, `${m.module}.${m.method}`, h('span', { className: 'muted' }, ` at ${new Date(m.at).toLocaleString()} on ${m.replica}`)),
        h('div', { className: 'muted' }, 'call: ', h('code', {}, JSON.stringify(m.args))),
        h('div', { className: 'side' }, h('div', {}, h('b', {}, 'local (served)'), json(m.local)), h('div', {}, h('b', {}, 'shadow (copy)'), json(m.shadow))),
      ),
    ),
  );
}

// --- 5. Extraction report
function renderExtraction(report) {
  fill(
    'extraction',
    h('p', { className: 'note' }, `Last ${report.window.hours} h; extract at ${report.extract_at}/10. Generated ${new Date(report.generated_at).toLocaleString()}.`),
    report.modules.map((m) => [
      h('h3', {}, `${m.module}: ${m.total}/10 `, h('span', { className: m.recommend_extraction ? 'bad' : 'ok' }, m.recommend_extraction ? 'extract' : 'keep in')),
      h('p', {}, m.recommendation),
      table(['criterion', 'score', 'evidence'], m.criteria.map((c) => h('tr', {}, h('td', {}, c.criterion.replaceAll('_', ' ')), h('td', {}, `${c.score}/2`), h('td', { className: c.has_evidence ? '' : 'muted' }, c.evidence)))),
    ]),
  );
}

/** Each view loads on its own: a slow one (the extraction report reads git) never holds the others. */
async function view(id, load) {
  try {
    await load();
  } catch (error) {
    fill(id, h('p', { className: 'bad' }, `Could not load: ${error.message}`));
  }
}

async function load() {
  let topology;
  try {
    topology = await api('GET', 'topology');
  } catch (error) {
    $('#views').hidden = true;
    if (error.status === 403) return showLogin('This token is not an admin\'s: no data is shown.');
    if (error.status === 401) return showLogin(`The token was refused: ${error.message}`);
    return status(`The admin API did not answer: ${error.message}`, true);
  }
  $('#views').hidden = false;
  $('#login').hidden = true;
  $('#refresh').hidden = $('#logout').hidden = false;
  $('#who').textContent = `served by ${topology.this_process.replica}`;
  topologyShown = topology;
  renderMap(topology);
  renderControls(topology);
  if (!timer) timer = setInterval(poll, POLL_MS);
  poll();
  await Promise.all([
    view('outbox', async () => renderOutbox(await api('GET', 'outbox?status=failed'))),
    view('mismatches', async () => renderMismatches((await api('GET', 'shadow/mismatches')).mismatches)),
    view('extraction', async () => renderExtraction(await api('GET', 'extraction'))),
  ]);
}

function showLogin(message) {
  sessionStorage.removeItem(KEY);
  clearInterval(timer);
  timer = counters = topologyShown = undefined;
  samples = [];
  processes = [];
  $('#views').hidden = true;
  $('#refresh').hidden = $('#logout').hidden = true;
  $('#who').textContent = '';
  $('#login').hidden = false;
  status(message ?? '', Boolean(message));
}

$('#login').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $('#token').value.trim());
  $('#token').value = '';
  status('');
  load();
});
$('#refresh').addEventListener('click', () => load());
$('#logout').addEventListener('click', () => showLogin());

if (sessionStorage.getItem(KEY)) load();
else showLogin();
