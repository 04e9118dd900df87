import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { encodeAdapter, resolveSnellConfig } from '@fedsnell/snell';
import { adapterUrl } from './pull';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../../../..');

async function fedsnell(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(ROOT, 'bin/fedsnell.cjs'), ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function adapterBytes(round: number): Uint8Array {
  const factor = (shape: number[]) => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(0.5) });
  return encodeAdapter({
    config: resolveSnellConfig({ heads: 2, rank: 4 }),
    modules: ['blocks.0.attn.q'],
    tensors: new Map([
      ['blocks.0.attn.q.snell_A', factor([2, 8, 2])],
      ['blocks.0.attn.q.snell_B', factor([2, 8, 2])],
    ]),
    extra: { round },
  });
}

describe('fedsnell pull', () => {
  const adapter = adapterBytes(3);
  let answer: { status: number; body: Uint8Array | string } = { status: 200, body: adapter };
  const requests: IncomingMessage[] = [];
  let server: Server;
  let url: string;
  let dir: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req);
      res.writeHead(answer.status, { 'Content-Type': typeof answer.body === 'string' ? 'application/json' : 'application/octet-stream' });
      res.end(answer.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  beforeEach(() => {
    requests.length = 0;
    answer = { status: 200, body: adapter };
    dir = mkdtempSync(join(tmpdir(), 'fedsnell-pull-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a checked adapter and prints its summary', async () => {
    const out = join(dir, 'sub', 'adapter.safetensors');
    const { code, stdout } = await fedsnell('pull', '--server', url, '--admin-token', 'adm', '--out', out, '--round', '3', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({ out, round: 3, bytes: adapter.byteLength, sha256: createHash('sha256').update(adapter).digest('hex'), modules: 1 });
    expect(Buffer.compare(readFileSync(out), adapter)).toBe(0);
    expect([requests[0].url, requests[0].headers.authorization]).toEqual(['/api/adapter?round=3', 'Bearer adm']);
  });

  it('names a refused admin token in one line', async () => {
    answer = { status: 401, body: JSON.stringify({ error: { code: 'UNAUTHORIZED', message: '/api/adapter needs Authorization: Bearer <admin token>' } }) };
    const { code, stderr } = await fedsnell('pull', '--server', url, '--admin-token', 'bad', '--out', join(dir, 'a.safetensors'));
    expect(code).toBe(1);
    expect(stderr).toBe(`fedsnell pull: ${url} refused the admin token (401): /api/adapter needs Authorization: Bearer <admin token>\n`);
  });

  it('prints a refusal as one JSON error with --json', async () => {
    answer = { status: 401, body: JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'bad admin token' } }) };
    const { code, stdout, stderr } = await fedsnell('pull', '--server', url, '--admin-token', 'bad', '--out', join(dir, 'a.safetensors'), '--json');
    expect([code, stderr, JSON.parse(stdout)]).toEqual([1, '', { error: { code: 'UNAUTHORIZED', message: `${url} refused the admin token (401): bad admin token` } }]);
  });

  it('says when the round has no adapter', async () => {
    answer = { status: 404, body: JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no adapter for round 9' } }) };
    const { code, stderr } = await fedsnell('pull', '--server', url, '--admin-token', 'adm', '--out', join(dir, 'a.safetensors'), '--round', '9');
    expect([code, stderr]).toEqual([1, `fedsnell pull: ${url} has no adapter for round 9 (404): no adapter for round 9\n`]);
  });

  it('writes nothing when the body is not an adapter', async () => {
    answer = { status: 200, body: new Uint8Array([1, 2, 3, 4]) };
    const out = join(dir, 'a.safetensors');
    const { code, stderr } = await fedsnell('pull', '--server', url, '--admin-token', 'adm', '--out', out);
    expect([code, stderr.split('\n').length]).toEqual([1, 2]);
    expect(stderr).toContain('did not send a valid fedsnell adapter (nothing written)');
    expect(existsSync(out)).toBe(false);
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const { code, stderr } = await fedsnell('pull', '--server', `http://127.0.0.1:${port}`, '--admin-token', 'adm', '--out', join(dir, 'a.safetensors'));
    expect([code, stderr]).toEqual([1, `fedsnell pull: cannot reach http://127.0.0.1:${port}: connection refused\n`]);
  });
});

describe('adapterUrl', () => {
  it('keeps a path prefix', () => {
    expect(adapterUrl('https://example.org/fed/', 2).href).toBe('https://example.org/fed/api/adapter?round=2');
  });

  it('rejects a URL that is not http', () => {
    expect(() => adapterUrl('ftp://x')).toThrow("--server must be an http: or https: URL but got 'ftp://x'");
  });
});
