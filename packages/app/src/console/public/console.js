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

// --- 1. Module map (and, from this process's /metrics, calls by side and events delivered)
let lastMetrics;
async function metricsSample() {
  try {
    const response = await fetch('/metrics');
    if (!response.ok) return undefined;
    const calls = {};
    const events = {};
    for (const line of (await response.text()).split('\n')) {
      const m = /^(module_calls_by_side_total|outbox_events_delivered_total)\{([^}]*)\} ([\d.e+]+)/.exec(line);
      if (!m) continue;
      const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      const value = Number(m[3]);
      if (m[1] === 'module_calls_by_side_total') calls[`${labels.module} ${labels.side}`] = (calls[`${labels.module} ${labels.side}`] ?? 0) + value;
      else events[labels.module] = (events[labels.module] ?? 0) + value;
    }
    return { at: performance.now(), calls, events };
  } catch {
    return undefined;
  }
}

function renderMap(topology, sample) {
  const previous = lastMetrics;
  lastMetrics = sample ?? lastMetrics;
  const seconds = previous && sample ? (sample.at - previous.at) / 1000 : 0;
  const rate = (now, before) => (seconds > 0 && before !== undefined ? ((now - before) / seconds).toFixed(1) : '–');
  const calls = (module) =>
    sample
      ? Object.entries(sample.calls)
          .filter(([key]) => key.startsWith(`${module} `))
          .map(([key, count]) => h('span', { className: 'tag' }, `${key.split(' ')[1]}: ${count}`))
      : '–';
  fill(
    'map',
    table(
      ['module', 'hosted by (processes)', 'remote %', 'shadow', 'calls here by side', 'events/s delivered here'],
      topology.modules.map((m) =>
        h(
          'tr',
          { 'data-module': m.module },
          h('td', {}, h('b', {}, m.module)),
          h('td', {}, m.hosted_by.length ? m.hosted_by.map((p) => h('span', { className: 'tag' }, p)) : h('span', { className: 'bad' }, 'no live host')),
          h('td', {}, m.remote_percent ?? '–'),
          h('td', {}, m.shadow === null ? '–' : m.shadow ? 'on' : 'off'),
          h('td', {}, calls(m.module)),
          h('td', {}, sample ? rate(sample.events[m.module] ?? 0, previous?.events[m.module] ?? (previous ? 0 : undefined)) : '–'),
        ),
      ),
    ),
    h('h3', {}, `Replicas (${topology.replicas.length})`),
    table(
      ['process', 'replica', 'modules', 'remote copies of', 'version', 'host / pid', 'last seen'],
      topology.replicas.map((r) =>
        h('tr', {}, h('td', {}, r.process), h('td', {}, r.id === topology.this_process.replica ? `${r.id} (this one)` : r.id), h('td', {}, r.modules.join(', ')), h('td', {}, r.switchable.join(', ') || '–'), h('td', {}, r.version), h('td', {}, `${r.host} / ${r.pid}`), h('td', {}, new Date(r.last_seen).toLocaleTimeString())),
      ),
    ),
    h('p', { className: 'note' }, 'Calls and events are counted by the process serving this page (its /metrics); rates are since the last refresh.'),
  );
}

// --- 2. Topology controls
function renderControls(topology, rollouts) {
  const switchable = topology.modules.filter((m) => m.remote_percent !== null || m.shadow !== null);
  if (!switchable.length) return fill('controls', h('p', { className: 'muted' }, 'No module has a remote copy: nothing to switch (set <MODULE>_URL where it is hosted).'));
  fill(
    'controls',
    table(
      ['module', 'remote percent', 'shadow', 'rollout'],
      switchable.map((m) => {
        const input = h('input', { type: 'number', min: 0, max: 100, step: 1, value: m.remote_percent ?? 0, 'aria-label': `${m.module} remote percent` });
        const rollout = rollouts[m.module];
        return h(
          'tr',
          { 'data-module': m.module },
          h('td', {}, h('b', {}, m.module)),
          h(
            'td',
            {},
            m.remote_percent === null
              ? '–'
              : [input, ' ', h('button', { onclick: () => act(`${m.module} remote percent`, () => api('PUT', `topology/${m.module}/remote-percent`, { percent: Number(input.value) })) }, 'Set')],
          ),
          h(
            'td',
            {},
            m.shadow === null
              ? '–'
              : [m.shadow ? 'on ' : 'off ', h('button', { onclick: () => act(`${m.module} shadow`, () => api('PUT', `topology/${m.module}/shadow`, { enabled: !m.shadow })) }, m.shadow ? 'Turn off' : 'Turn on')],
          ),
          h(
            'td',
            {},
            rollout
              ? [
                  h('b', {}, rollout.state),
                  ` step ${rollout.step_index + 1}/${rollout.steps.length} (${rollout.step_percent}%)`,
                  rollout.waiting_for ? h('div', { className: 'muted' }, rollout.waiting_for) : null,
                  rollout.reason ? h('div', { className: 'muted' }, rollout.reason) : null,
                  rollout.state === 'running' ? h('button', { onclick: () => act(`${m.module} rollout abort`, () => api('DELETE', `topology/${m.module}/rollout`)) }, 'Abort') : null,
                ]
              : h('span', { className: 'muted' }, 'none yet'),
          ),
        );
      }),
    ),
  );
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
  renderMap(topology, undefined); // at once; again with the counts once /metrics answers
  metricsSample().then((sample) => sample && renderMap(topology, sample));
  const switchable = topology.modules.filter((m) => m.remote_percent !== null);
  const rollouts = Object.fromEntries(
    await Promise.all(switchable.map(async (m) => [m.module, await api('GET', `topology/${m.module}/rollout`).catch(() => null)])),
  );
  renderControls(topology, rollouts);
  await Promise.all([
    view('outbox', async () => renderOutbox(await api('GET', 'outbox?status=failed'))),
    view('mismatches', async () => renderMismatches((await api('GET', 'shadow/mismatches')).mismatches)),
    view('extraction', async () => renderExtraction(await api('GET', 'extraction'))),
  ]);
}

function showLogin(message) {
  sessionStorage.removeItem(KEY);
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
