import type { MonitorClient, MonitorSnapshot } from '@fedsnell/protocol';
import { Chart, escape } from './charts';
import { errorMessage, openEventStream } from './event-stream';

const TOKEN_KEY = 'fedsnell.adminToken';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

interface DashboardState {
  token: string | null;
  snapshot: MonitorSnapshot | null;
  stream: { stop(): void } | null;
}

const state: DashboardState = { token: null, snapshot: null, stream: null };
let charts: Record<'accuracy' | 'loss' | 'bytes' | 'gap' | 'density', Chart> | null = null;

/** A token in the fragment (`#token=…`) is taken once and removed from the address bar. */
function tokenFromFragment(): string | null {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  const token = params.get('token');
  if (token) history.replaceState(null, '', location.pathname);
  return token;
}

function setLink(text: string, kind: 'live' | 'down' | '') {
  const link = $('link');
  link.textContent = text;
  link.className = `pill ${kind}`;
}

function signIn(token: string): void {
  state.stream?.stop();
  state.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('login-error').textContent = '';
  setLink('connecting…', '');
  state.stream = openEventStream('/api/events', token, {
    onOpen: () => {
      setLink('live', 'live');
      $('login').hidden = true;
      $('board').hidden = false;
      charts ??= {
        accuracy: new Chart($('chart-accuracy'), 'line'),
        loss: new Chart($('chart-loss'), 'line'),
        bytes: new Chart($('chart-bytes'), 'bars'),
        gap: new Chart($('chart-gap'), 'line'),
        density: new Chart($('chart-density'), 'bars'),
      };
    },
    onEvent: (event, data) => {
      if (event !== 'snapshot') return;
      state.snapshot = JSON.parse(data) as MonitorSnapshot;
      render(state.snapshot);
    },
    onDown: (reason, retryMs) => setLink(`reconnecting in ${Math.round(retryMs / 1000)} s (${reason})`, 'down'),
    onUnauthorized: (message) => signOut(`The coordinator refused this admin token: ${message}`),
  });
}

function signOut(message: string): void {
  state.stream?.stop();
  state.stream = null;
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  $('board').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  setLink('not connected', 'down');
  $<HTMLInputElement>('token').focus();
}

function render(s: MonitorSnapshot): void {
  $('round').textContent = s.round === null ? 'none yet' : String(s.round);
  $('phase').textContent = s.phase;
  $('state').textContent = s.state;
  $('completed').textContent = String(s.roundsCompleted);
  $('deadline').dataset['at'] = s.deadline === null ? '' : String(s.deadline);
  renderCountdown();
  $<HTMLButtonElement>('start').disabled = s.state === 'running' || s.state === 'finished' || s.state === 'closed';
  $<HTMLButtonElement>('pause').disabled = s.state !== 'running';
  renderTask(s);
  renderClients(s.clients);
  renderCharts(s);
  renderAdapters(s);
}

function renderCountdown(): void {
  const el = $('deadline');
  const at = Number(el.dataset['at']);
  if (!el.dataset['at']) {
    el.textContent = '–';
    return;
  }
  const left = Math.max(0, Math.round((at - Date.now()) / 1000));
  el.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left`;
}

function renderTask(s: MonitorSnapshot): void {
  const t = s.task;
  const facts: Array<[string, string]> = [
    ['Task', t.taskId],
    ['Strategy', t.strategy],
    ['Classes', `${t.classes.length}: ${t.classes.join(', ')}`],
    ['Backbone', `${t.backbone.sha256.slice(0, 12)}… (${(t.backbone.bytes / 1e6).toFixed(1)} MB)`],
    ['SNELL', describe(t.snell, ['kernel', 'p', 'rank', 'heads', 'sparsity', 'scale'])],
    ['Trainer', describe(t.trainer, ['epochs', 'batchSize', 'lr', 'weightDecay', 'maxSteps'])],
    ['Rounds', describe(t.rounds, ['totalRounds', 'minClients', 'minReplies', 'fraction', 'roundTimeoutMs'])],
    ['Update dtype', t.updateDtype],
  ];
  const html = facts.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join('');
  const el = $('task');
  if (el.innerHTML !== html) el.innerHTML = html;
}

function describe(values: Record<string, unknown>, keys: string[]): string {
  return keys.filter((k) => values[k] !== undefined).map((k) => `${k} ${String(values[k])}`).join(', ');
}

function renderClients(clients: MonitorClient[]): void {
  const rows = clients.map((c) => {
    const p = c.progress;
    const progress = p && p.totalSteps ? `<progress max="${p.totalSteps}" value="${p.step}" aria-label="steps of ${escape(c.clientId)}"></progress> ${p.step}/${p.totalSteps}${p.loss !== null ? ` · loss ${p.loss.toFixed(3)}` : ''}` : '–';
    const last = c.last
      ? c.last.outcome === 'accepted'
        ? `round ${c.last.round ?? '?'} accepted`
        : `<span title="${escape(c.last.message ?? '')}">${escape(c.last.code ?? 'refused')}</span>${c.last.round !== null ? ` (round ${c.last.round})` : ''}`
      : '–';
    return `<tr data-client="${escape(c.clientId)}"><td>${escape(c.clientId)}</td><td>${escape(c.platform ?? '?')} · ${escape(c.backend ?? '?')}</td><td><span class="state ${c.state}">${c.state}</span></td><td>${progress}</td><td>${c.accepted} / ${c.rejected}</td><td>${last}</td></tr>`;
  });
  const body = document.querySelector('#clients tbody') as HTMLElement;
  const html = rows.join('') || '<tr><td colspan="6">No client has connected yet.</td></tr>';
  if (body.innerHTML !== html) body.innerHTML = html;
}

function renderCharts(s: MonitorSnapshot): void {
  if (!charts) return;
  const closed = s.rounds.filter((r) => r.closedAt !== null);
  const x = closed.map((r) => r.round);
  charts.accuracy.update({ x, series: [{ label: 'accuracy', values: closed.map((r) => r.accuracy) }] });
  charts.loss.update({ x, series: [{ label: 'loss', values: closed.map((r) => r.loss) }] });
  charts.bytes.update({
    x,
    series: [
      { label: 'sent kB', values: closed.map((r) => (r.bytesSent === null ? null : r.bytesSent / 1000)) },
      { label: 'received kB', values: closed.map((r) => (r.bytesReceived === null ? null : r.bytesReceived / 1000)) },
    ],
  });
  // one gap per module: the chart shows their mean and the worst module
  const gaps = closed.map((r) => Object.values(r.gaps));
  charts.gap.update({
    x,
    series: [
      { label: 'mean over modules', values: gaps.map((g) => (g.length ? g.reduce((a, b) => a + b, 0) / g.length : null)) },
      { label: 'largest module', values: gaps.map((g) => (g.length ? Math.max(...g) : null)) },
    ],
  });
  const latest = [...closed].reverse().find((r) => r.density !== null);
  const modules = latest?.density ? Object.keys(latest.density) : [];
  charts.density.update({
    x: modules.map((_m, i) => i),
    xNames: modules.map((m) => m.replace(/^blocks\./, 'b').replace(/\.(attn|mlp)\./, '.')),
    series: [{ label: `kept share, round ${latest?.round ?? '–'}`, values: modules.map((m) => latest?.density?.[m] ?? null) }],
  });
  const codes = Object.entries(s.rejections).sort((a, b) => b[1] - a[1]);
  const body = document.querySelector('#rejections tbody') as HTMLElement;
  const html = codes.length ? codes.map(([code, n]) => `<tr><th scope="row">${escape(code)}</th><td>${n}</td></tr>`).join('') : '<tr><td>none</td></tr>';
  if (body.innerHTML !== html) body.innerHTML = html;
}

function renderAdapters(s: MonitorSnapshot): void {
  const done = s.rounds.filter((r) => r.status === 'aggregated' || r.status === 'kept' || r.status === 'failed');
  const list = $('adapters');
  const key = done.map((r) => r.round).join(',');
  if (list.dataset['rounds'] === key) return;
  list.dataset['rounds'] = key;
  list.innerHTML = done.length ? '' : '<li class="hint">No completed round yet.</li>';
  for (const r of done) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'secondary';
    button.textContent = `Round ${r.round}`;
    button.dataset['round'] = String(r.round);
    button.addEventListener('click', () => void downloadAdapter(r.round));
    li.append(button);
    list.append(li);
  }
}

async function downloadAdapter(round: number): Promise<void> {
  $('adapter-error').textContent = '';
  const res = await fetch(`/api/adapter?round=${round}`, { headers: { Authorization: `Bearer ${state.token ?? ''}` } });
  if (!res.ok) {
    $('adapter-error').textContent = `Round ${round}: ${await errorMessage(res)}`;
    return;
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `${state.snapshot?.task.taskId ?? 'adapter'}-round-${round}.safetensors`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function post(path: '/api/start' | '/api/pause'): Promise<void> {
  $('action-error').textContent = '';
  const res = await fetch(path, { method: 'POST', headers: { Authorization: `Bearer ${state.token ?? ''}` } });
  if (res.status === 401) return signOut(`The coordinator refused this admin token: ${await errorMessage(res)}`);
  if (!res.ok) $('action-error').textContent = `${path}: ${await errorMessage(res)}`;
}

function main(): void {
  $('login').addEventListener('submit', (event) => {
    event.preventDefault();
    const token = $<HTMLInputElement>('token').value.trim();
    if (token) signIn(token);
  });
  $('start').addEventListener('click', () => void post('/api/start'));
  $('pause').addEventListener('click', () => void post('/api/pause'));
  setInterval(renderCountdown, 1000);
  const token = tokenFromFragment() ?? sessionStorage.getItem(TOKEN_KEY);
  if (token) signIn(token);
  else $<HTMLInputElement>('token').focus();
}

main();
