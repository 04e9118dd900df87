import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { writeImageFolder } from '@fedsnell/data/node';
import { createParser, type RoundStart, type TaskFinished } from '@fedsnell/protocol';
import { FIXTURE, REPO } from './testing/run-cli';

/**
 * `fedsnell coordinator --tokens-file … --exit-when-done`: a device joins with its own token, a wire
 * client trains nothing but answers the one round, is told the task finished, and the coordinator
 * exits 0 by itself.
 */
describe('fedsnell coordinator --exit-when-done and --tokens-file', () => {
  let dir: string;
  let child: ChildProcessWithoutNullStreams | null = null;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fedsnell-finish-cli-'));
    let seed = 3;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256;
    const examples = [0, 1].flatMap((label) =>
      Array.from({ length: 2 }, () => ({ label, image: { width: 16, height: 16, channels: 3 as const, data: Uint8Array.from({ length: 768 }, next) } })),
    );
    await writeImageFolder(join(dir, 'eval'), ['a', 'b'], examples);
    await writeFile(join(dir, 'task.json'), JSON.stringify({ rounds: { totalRounds: 1, minClients: 1, minReplies: 1, graceMs: 0, roundTimeoutMs: 60_000, waitForClientsMs: 100 } }));
    await writeFile(join(dir, 'tokens.txt'), '# one token per device\ndevice-token phone-1\n');
  });

  afterAll(async () => {
    sockets.forEach((s) => s.disconnect());
    child?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const open = (url: string, auth: Record<string, unknown>) => {
    const socket = io(url, { parser: createParser(), transports: ['websocket'], forceNew: true, reconnection: false, auth });
    sockets.push(socket);
    return new Promise<{ socket: Socket; refused?: string }>((resolve) => {
      socket.once('connect', () => resolve({ socket }));
      socket.once('connect_error', (e: Error & { data?: { code: string } }) => resolve({ socket, refused: e.data?.code ?? e.message }));
    });
  };

  it('runs the task, tells the client, and exits 0', async () => {
    const args = ['coordinator', '--backbone', FIXTURE, '--eval-data', join(dir, 'eval'), '--task', join(dir, 'task.json'), '--state', join(dir, 'state')];
    args.push('--port', '0', '--tokens-file', join(dir, 'tokens.txt'), '--admin-token', 'admin-secret', '--json', '--exit-when-done', '--backend', 'cpu');
    const proc = spawn(process.execPath, [join(REPO, 'bin/fedsnell.cjs'), ...args], { cwd: REPO });
    child = proc;
    let stdout = '';
    proc.stderr.resume();
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      proc.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const first = stdout.split('\n')[0];
        if (!stdout.includes('\n')) return;
        const listening = JSON.parse(first) as { url?: string };
        if (listening.url) resolve(listening.url);
        else reject(new Error(`coordinator did not start: ${first}`));
      });
      void exited.then((code) => reject(new Error(`coordinator exited with ${code} before listening`)));
    });
    // the device token names its own id; another id is refused
    expect((await open(url, { token: 'device-token', clientId: 'someone-else' })).refused).toBe('UNAUTHORIZED');
    const { socket } = await open(url, { token: 'device-token' });
    const finished = new Promise<TaskFinished>((resolve) => socket.once('task:finished', resolve));
    socket.on('round:start', (start: RoundStart) => {
      const tensors = start.state.map((t) => ({ ...t, data: new Uint8Array(new Float32Array(t.data.slice().buffer).map((v) => v + 0.001).buffer) }));
      void socket.timeout(30_000).emitWithAck('update', { taskId: start.taskId, round: start.round, tensors, numExamples: 4, metrics: { loss: 1, accuracy: 0.5, examplesPerSecond: 1, seconds: 1 } });
    });
    const ack = (await socket.timeout(10_000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' } })) as {
      ok: boolean;
      clientId: string;
      task: { taskId: string; backbone: { sha256: string } };
    };
    expect([ack.ok, ack.clientId]).toEqual([true, 'phone-1']);
    await socket.timeout(10_000).emitWithAck('ready', { taskId: ack.task.taskId, backbone: ack.task.backbone.sha256, examples: 4 });
    const summary = await finished;
    expect(summary).toEqual(expect.objectContaining({ taskId: ack.task.taskId, roundsCompleted: 1, lastRound: 0 }));
    expect(await exited).toBe(0);
    const last = JSON.parse(stdout.trim().split('\n').at(-1) as string) as { finished: TaskFinished };
    expect(last.finished).toEqual(summary);
  }, 120_000);
});
