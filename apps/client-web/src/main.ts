import type { ClientEvent } from '@fedsnell/client';
import type { PreprocessConfig } from '@fedsnell/data';
import type { BackendPreference, FromWorker, PickedFile, ToWorker } from './messages';
import { errorMessage } from '@fedsnell/util';

/** Every worker message with the page time it arrived (ms since the page opened), for tests and support. */
interface LogEntry {
  at: number;
  message: FromWorker;
}

interface InspectResult {
  classes: string[];
  labels: number[];
  x: number[];
  skipped: Array<{ name: string; reason: string }>;
}

declare global {
  interface Window {
    fedsnellLog: LogEntry[];
    /** Preprocesses the picked images with `preprocess` in the worker (diagnostics). */
    fedsnellInspect(preprocess: PreprocessConfig): Promise<InspectResult>;
  }
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

const BACKENDS: readonly BackendPreference[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];

interface PageState {
  worker: Worker | null;
  folder: string;
  files: PickedFile[];
  wasmThreads: boolean;
  clientId: string | undefined;
  plan: { epochs: number; stepsPerEpoch: number } | null;
  round: number | null;
  sent: number;
  received: number;
  running: boolean;
}

const state: PageState = { worker: null, folder: '', files: [], wasmThreads: true, clientId: undefined, plan: null, round: null, sent: 0, received: 0, running: false };
window.fedsnellLog = [];

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

function setLink(text: string, kind: 'live' | 'down' | '' = ''): void {
  $('link').textContent = text;
  $('link').className = `pill ${kind}`;
}

function log(text: string): void {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  const list = $('log');
  list.append(li);
  while (list.childElementCount > 200) list.firstElementChild?.remove();
}

/** Settings from the fragment (`#server=…&token=…&backend=wasm&threads=0&id=…`), never from the query; removed once read. */
function readFragment(): void {
  const params = new URLSearchParams(location.hash.replace(/^#/, ''));
  $<HTMLInputElement>('server').value = params.get('server') ?? location.origin;
  const token = params.get('token');
  if (token) $<HTMLInputElement>('token').value = token;
  const backend = params.get('backend');
  if (backend && (BACKENDS as readonly string[]).includes(backend)) $<HTMLSelectElement>('backend').value = backend;
  state.wasmThreads = params.get('threads') !== '0';
  state.clientId = params.get('id') ?? undefined;
  if (location.hash) history.replaceState(null, '', location.pathname);
}

function setFiles(folder: string, files: PickedFile[]): void {
  state.folder = folder;
  state.files = files;
  const images = files.filter((f) => /\.(png|jpe?g)$/i.test(f.path)).length;
  $('folder-info').textContent = files.length ? `${folder}: ${files.length} files, ${images} look like images.` : 'No folder picked yet.';
}

function onFolderInput(): void {
  const input = $<HTMLInputElement>('folder');
  const list = Array.from(input.files ?? []);
  // webkitRelativePath is "<picked folder>/<class>/…/<file>"
  const folder = list[0]?.webkitRelativePath.split('/')[0] ?? '';
  setFiles(
    folder,
    list.map((file) => ({ path: file.webkitRelativePath.split('/').slice(1).join('/'), file })),
  );
}

interface DirectoryHandle {
  name: string;
  kind: 'directory';
  values(): AsyncIterable<DirectoryHandle | FileHandle>;
}
interface FileHandle {
  name: string;
  kind: 'file';
  getFile(): Promise<File>;
}

async function walk(dir: DirectoryHandle, prefix: string, out: PickedFile[]): Promise<void> {
  for await (const entry of dir.values()) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.kind === 'directory') await walk(entry, path, out);
    else out.push({ path, file: await entry.getFile() });
  }
}

/** The File System Access API's folder picker, where the browser has it. */
async function pickWithFileSystemAccess(): Promise<void> {
  const picker = (window as Window & { showDirectoryPicker?: () => Promise<DirectoryHandle> }).showDirectoryPicker;
  if (!picker) return;
  try {
    const dir = await picker();
    const files: PickedFile[] = [];
    await walk(dir, '', files);
    setFiles(dir.name, files);
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) $('error').textContent = `Cannot read that folder: ${errorMessage(error)}`;
  }
}

function worker(): Worker {
  if (!state.worker) {
    const w = new Worker(new URL('worker.js', location.href), { type: 'module' });
    w.addEventListener('message', (e: MessageEvent<FromWorker>) => onWorker(e.data));
    w.addEventListener('error', (e) => fail(`The training worker failed: ${e.message}`));
    state.worker = w;
  }
  return state.worker;
}

function send(message: ToWorker): void {
  worker().postMessage(message);
}

function start(): void {
  $('error').textContent = '';
  const server = $<HTMLInputElement>('server').value.trim();
  const token = $<HTMLInputElement>('token').value.trim();
  try {
    const url = new URL(server);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    return fail(`The coordinator address must be an http(s) URL, e.g. ${location.origin}`);
  }
  if (!token) return fail('Enter the client token the coordinator was started with.');
  if (state.files.length === 0) return fail('Pick the folder with your images first (one sub-folder per class).');
  state.running = true;
  $<HTMLButtonElement>('start').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  setLink('connecting…');
  send({
    type: 'start',
    server,
    token,
    ...(state.clientId ? { clientId: state.clientId } : {}),
    folder: state.folder,
    files: state.files,
    backend: $<HTMLSelectElement>('backend').value as BackendPreference,
    wasmThreads: state.wasmThreads,
  });
}

function fail(message: string): void {
  $('error').textContent = message;
  log(message);
}

function addReceived(bytes: number): void {
  state.received += bytes;
  $('received').textContent = formatBytes(state.received);
}

function onWorker(message: FromWorker): void {
  window.fedsnellLog.push({ at: performance.now(), message: message.type === 'inspected' ? { ...message, x: new Float32Array(0) } : message });
  switch (message.type) {
    case 'event':
      return onClientEvent(message.event);
    case 'backend': {
      const { info } = message;
      const adapter = info.adapter ? `, adapter ${[info.adapter.vendor, info.adapter.architecture, info.adapter.description].filter(Boolean).join(' / ') || 'unnamed'}${info.adapter.fallback ? ' (fallback)' : ''}` : '';
      const threads = info.wasmThreads === null ? '' : info.wasmThreads ? ', threads on' : ', single thread';
      $('backend-info').textContent = `${info.name}${info.name === 'webgpu' ? adapter : ''}${threads}${info.crossOriginIsolated ? '' : ' (page not cross-origin isolated)'}`;
      document.body.dataset['backend'] = info.name;
      return log(`compute: ${$('backend-info').textContent}${info.tried.length ? `; not available: ${info.tried.map((t) => t.name).join(', ')}` : ''}`);
    }
    case 'skipped': {
      const box = $('warnings');
      box.hidden = message.files.length === 0;
      box.innerHTML = '';
      if (message.files.length === 0) return;
      const title = document.createElement('strong');
      title.textContent = `${message.files.length} file(s) skipped:`;
      const list = document.createElement('ul');
      for (const f of message.files) {
        const li = document.createElement('li');
        li.textContent = `${f.name}: ${f.reason}`;
        list.append(li);
      }
      box.append(title, list);
      return;
    }
    case 'plan':
      state.plan = { epochs: message.epochs, stepsPerEpoch: message.stepsPerEpoch };
      return;
    case 'round-bytes':
      return addReceived(message.bytes);
    case 'memory':
      $('memory').textContent = `${message.numTensors} tensors, ${formatBytes(message.numBytes)} after round ${message.round}`;
      return;
    case 'inspected':
      return;
    case 'stopped':
      state.running = false;
      $<HTMLButtonElement>('start').disabled = false;
      $<HTMLButtonElement>('stop').disabled = true;
      setLink(message.fatal ? 'stopped (error)' : 'stopped', message.fatal ? 'down' : '');
      if (message.fatal) fail(explain(message.reason, message.code));
      else log(`stopped: ${message.reason}`);
      return;
  }
}

/** A fatal error, in words a person can act on. */
function explain(reason: string, code: string | undefined): string {
  if (code === 'REFUSED' && /UNAUTHORIZED|token/i.test(reason)) return `The coordinator refused the client token. Check it and try again. (${reason})`;
  if (code === 'UNREACHABLE') return `The coordinator cannot be reached. Check the address. (${reason})`;
  if (code === 'DATA') return `Your folder cannot be used for this task: ${reason}`;
  return reason;
}

function renderEpochs(round: number, step: number, totalSteps: number, loss: number): void {
  const plan = state.plan ?? { epochs: 1, stepsPerEpoch: totalSteps };
  const epochs = Math.max(1, Math.min(plan.epochs, Math.ceil(totalSteps / plan.stepsPerEpoch)));
  const box = $('epochs');
  if (box.dataset['round'] !== String(round) || box.childElementCount !== epochs) {
    box.dataset['round'] = String(round);
    box.innerHTML = '';
    for (let e = 0; e < epochs; e++) {
      const row = document.createElement('div');
      row.className = 'epoch';
      const label = document.createElement('span');
      label.id = `epoch-label-${e}`;
      label.textContent = `Epoch ${e + 1}`;
      const bar = document.createElement('progress');
      bar.setAttribute('aria-labelledby', label.id);
      bar.max = Math.min(plan.stepsPerEpoch, totalSteps - e * plan.stepsPerEpoch);
      bar.value = 0;
      const text = document.createElement('span');
      row.append(label, bar, text);
      box.append(row);
    }
  }
  const rows = Array.from(box.children);
  rows.forEach((row, e) => {
    const bar = row.querySelector('progress') as HTMLProgressElement;
    bar.value = Math.max(0, Math.min(bar.max, step - e * plan.stepsPerEpoch));
    (row.lastElementChild as HTMLElement).textContent = `${bar.value}/${bar.max}`;
  });
  $('loss').textContent = loss.toFixed(4);
}

function addUpdateRow(round: number, fate: string, ok: boolean, numExamples?: number, loss?: number, accuracy?: number): void {
  const body = document.querySelector('#updates tbody') as HTMLElement;
  body.querySelector('.none')?.remove();
  const tr = document.createElement('tr');
  tr.dataset['round'] = String(round);
  const cells = [String(round), fate, numExamples === undefined ? '–' : String(numExamples), loss === undefined ? '–' : loss.toFixed(4), accuracy === undefined ? '–' : accuracy.toFixed(3)];
  for (const [i, text] of cells.entries()) {
    const td = document.createElement('td');
    td.textContent = text;
    if (i === 1) td.className = ok ? 'fate-ok' : 'fate-bad';
    tr.append(td);
  }
  body.prepend(tr);
}

function onClientEvent(event: ClientEvent): void {
  switch (event.type) {
    case 'connected':
      setLink('connected', 'live');
      return log(`connected to ${event.server}`);
    case 'joined':
      setLink(`joined as ${event.clientId}`, 'live');
      return log(`joined as ${event.clientId} (task ${event.taskId})`);
    case 'task':
      $('task').textContent = `${event.taskId}: ${event.classes.length} classes`;
      return;
    case 'backbone': {
      const bar = $<HTMLProgressElement>('backbone-bar');
      bar.max = Math.max(1, event.totalBytes);
      bar.value = event.receivedBytes;
      const text =
        event.phase === 'cached'
          ? `from this browser's cache (${formatBytes(event.totalBytes)}, verified)`
          : event.phase === 'verify'
            ? 'checking sha256…'
            : `downloading ${formatBytes(event.receivedBytes)} of ${formatBytes(event.totalBytes)}`;
      $('backbone').textContent = text;
      $('backbone').dataset['phase'] = event.phase;
      if (event.phase === 'download' && event.receivedBytes === event.totalBytes) addReceived(event.totalBytes);
      return;
    }
    case 'data':
      $('data').textContent = `${event.examples} images from ${event.location}${event.skipped ? `, ${event.skipped} skipped (see below)` : ''}`;
      return;
    case 'ready':
      return log(`ready: ${event.examples} images on ${event.backend}`);
    case 'round:start':
      state.round = event.round;
      $('round').textContent = `${event.round} (deadline ${new Date(event.deadline).toLocaleTimeString()})`;
      renderEpochs(event.round, 0, event.totalSteps, 0);
      $('loss').textContent = '–';
      return log(`round ${event.round}: training ${event.totalSteps} steps`);
    case 'train':
      return renderEpochs(event.round, event.step, event.totalSteps, event.loss);
    case 'update:sent':
      state.sent += event.bytes;
      $('sent').textContent = formatBytes(state.sent);
      return log(`round ${event.round}: update sent (${formatBytes(event.bytes)}, ${event.chunks} chunk(s))`);
    case 'update:acked': {
      const { ack } = event;
      $('loss').textContent = event.metrics.loss.toFixed(4);
      $('accuracy').textContent = event.metrics.accuracy.toFixed(3);
      const fate = ack.ok ? 'accepted' : `${ack.error.code}: ${ack.error.message}`;
      addUpdateRow(event.round, fate, ack.ok || ack.error.code === 'DUPLICATE', event.numExamples, event.metrics.loss, event.metrics.accuracy);
      return log(`round ${event.round}: ${fate}`);
    }
    case 'round:skipped':
      addUpdateRow(event.round, `not sent: ${event.reason}`, false);
      return log(`round ${event.round} skipped: ${event.reason}`);
    case 'round:failed':
      addUpdateRow(event.round, `failed (${event.reason}): ${event.message}`, false);
      return log(`round ${event.round} failed: ${event.message}`);
    case 'round:end':
      return log(`round ${event.end.round} ended: ${event.end.status}, ${event.end.updates} update(s)`);
    case 'task:finished':
      return log('the task is finished');
    case 'disconnected':
      setLink('disconnected', 'down');
      return log(`disconnected: ${event.reason}`);
    case 'reconnecting':
      setLink(`reconnecting (attempt ${event.attempt})`, 'down');
      return log(`reconnecting in ${Math.round(event.delayMs)} ms: ${event.reason}`);
    case 'server:error':
      return log(`server error ${event.error.code}: ${event.error.message}`);
    case 'error':
      if (!event.fatal) log(event.message);
      return;
    case 'stopped':
      return log(`client stopped: ${event.reason}`);
  }
}

window.fedsnellInspect = (preprocess) =>
  new Promise((resolve, reject) => {
    const w = worker();
    const onMessage = (e: MessageEvent<FromWorker>) => {
      const m = e.data;
      if (m.type === 'inspected') {
        w.removeEventListener('message', onMessage);
        resolve({ classes: m.classes, labels: m.labels, x: Array.from(m.x), skipped: m.skipped });
      } else if (m.type === 'stopped' && m.fatal) {
        w.removeEventListener('message', onMessage);
        reject(new Error(m.reason));
      }
    };
    w.addEventListener('message', onMessage);
    send({ type: 'inspect', folder: state.folder, files: state.files, preprocess });
  });

function main(): void {
  readFragment();
  // a link with new settings opened in this tab changes only the fragment
  window.addEventListener('hashchange', () => {
    if (location.hash) readFragment();
  });
  $('folder').addEventListener('change', onFolderInput);
  if ('showDirectoryPicker' in window) {
    $('pick').hidden = false;
    $('pick').addEventListener('click', () => void pickWithFileSystemAccess());
  }
  $('setup').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!state.running) start();
  });
  $('stop').addEventListener('click', () => send({ type: 'stop' }));
}

main();
