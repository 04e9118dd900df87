import { ByteBudget, encodePayload, encodeTensor, resolveLimits, splitTransfer, type Ack, type ProtocolError, type RoundStart, type Task, type Update } from '@fedsnell/protocol';
import { newRecord } from './client-registry';
import { ClientSession, SUPPORTED_VERSIONS, type SessionContext, type SessionLoop } from './client-session';
import { defineMetrics } from './coordinator-metrics';
import { FakeClock } from './fake-clock.testing';
import { silentLogger } from './options';

const SHA = 'b'.repeat(64);

const task: Task = {
  taskId: 'task-1',
  backbone: { sha256: SHA, url: '/backbone/w', configUrl: '/backbone/c', bytes: 10, config: {} },
  snell: { kernel: 'distance', p: 2, scale: 1, heads: 4, rank: 4, sparsity: 0.9, targets: ['q'] },
  trainer: { epochs: 1, batchSize: 4, lr: 0.01, weightDecay: 0, schedule: 'cosine', seed: 1 },
  data: { classes: ['a', 'b'] },
  updateDtype: 'f32',
};

const start: RoundStart = { taskId: 'task-1', round: 0, deadline: 2_000_000, seed: 7, state: [] };

const update = (): Update => ({
  taskId: 'task-1',
  round: 0,
  tensors: [encodeTensor('w', [2], new Float32Array([1, 2]))],
  numExamples: 4,
  metrics: { loss: 1, accuracy: 0.5, examplesPerSecond: 1, seconds: 1 },
});

const join = (over: Record<string, unknown> = {}) => ({ protocolVersion: SUPPORTED_VERSIONS[0], capabilities: { backend: 'cpu', platform: 'node' }, ...over });

describe('ClientSession', () => {
  let clock: FakeClock;
  let submitted: Update[];
  let submitAck: Ack;
  let wakes: number;
  let peer: { joined: unknown[]; disconnects: number; starts: RoundStart[]; errors: ProtocolError[]; finished: number };
  let outcomes: (string | null)[];
  let finished: boolean;

  function session(): ClientSession {
    const loop: SessionLoop = {
      submit: async (_id, u) => {
        submitted.push(u);
        return submitAck;
      },
      fail: () => ({ ok: true }),
      pendingStartFor: () => start,
      wake: () => void wakes++,
      currentRound: 0,
    };
    const ctx: SessionContext = {
      task,
      limits: resolveLimits(),
      loop,
      confirmIdentity: () => undefined,
      monitor: { outcome: (_id, _round, error) => outcomes.push(error?.code ?? null) },
      metrics: defineMetrics(),
      clock,
      chunkBudget: new ByteBudget(1 << 20),
      finished: () => (finished ? { taskId: 'task-1', roundsCompleted: 1, lastRound: 0, metrics: {} } : null),
      onClientsChanged: () => undefined,
    };
    return new ClientSession(ctx, newRecord('c-1'), {
      joined: (info) => peer.joined.push(info),
      disconnectSoon: () => void peer.disconnects++,
      sendRoundStart: (s) => peer.starts.push(s),
      sendFinished: () => void peer.finished++,
      sendError: (error) => peer.errors.push(error),
    }, silentLogger);
  }

  beforeEach(() => {
    clock = new FakeClock();
    submitted = [];
    submitAck = { ok: true };
    wakes = 0;
    peer = { joined: [], disconnects: 0, starts: [], errors: [], finished: 0 };
    outcomes = [];
    finished = false;
  });

  it('joins: the task and limits in the ack, ready from the join, the pending round:start and task:finished sent after the ack', () => {
    finished = true;
    const s = session();
    const ack = s.join(join({ ready: { taskId: 'task-1', backbone: SHA, examples: 8 } }));
    const before = [peer.starts.length, peer.finished];
    clock.advance(0);
    expect([ack.ok && ack.task.taskId, ack.ok && ack.limits.maxTensors, s.record.joined, s.record.ready, s.record.examples, peer.joined, before, peer.starts, peer.finished, wakes]).toEqual([
      'task-1', resolveLimits().maxTensors, true, true, 8, [{ protocolVersion: 1, platform: 'node', backend: 'cpu' }], [0, 0], [start], 1, 1,
    ]);
  });

  it('refuses an unsupported protocol version, names the supported ones and drops the connection', () => {
    const s = session();
    const ack = s.join(join({ protocolVersion: 99 }));
    expect([ack.ok || ack.error.code, ack.ok || ack.supportedVersions, peer.disconnects, s.record.joined, s.record.rejected]).toEqual(['PROTOCOL_VERSION', [...SUPPORTED_VERSIONS], 1, false, 1]);
  });

  it('refuses messages before a join with NOT_JOINED, counting each', async () => {
    const s = session();
    const answers = [s.ready({ taskId: 'task-1', backbone: SHA, examples: 1 }), await s.update(update()), s.roundFailed({}), await s.chunk({})];
    expect([answers.map((a) => a.ok || a.error.code), s.record.rejected, outcomes, submitted]).toEqual([['NOT_JOINED', 'NOT_JOINED', 'NOT_JOINED', 'NOT_JOINED'], 4, Array(4).fill('NOT_JOINED'), []]);
  });

  it('takes ready only for the current task and backbone', () => {
    const s = session();
    s.join(join());
    const wrong = s.ready({ taskId: 'task-1', backbone: 'c'.repeat(64), examples: 3 });
    const right = s.ready({ taskId: 'task-1', backbone: SHA, examples: 3 });
    expect([wrong.ok || wrong.error.code, right, s.record.ready, s.record.examples]).toEqual(['WRONG_TASK', { ok: true }, true, 3]);
  });

  it('hands a parsed update to the round loop and counts what it answers', async () => {
    const s = session();
    s.join(join());
    const accepted = await s.update(update());
    submitAck = { ok: false, error: { code: 'DUPLICATE', message: 'already sent' } };
    const refused = await s.update(update());
    const malformed = await s.update({ round: 'x' });
    expect([accepted, refused.ok || refused.error.code, malformed.ok || malformed.error.code, submitted.length, s.record.accepted, s.record.rejected, outcomes]).toEqual([
      { ok: true }, 'DUPLICATE', 'MALFORMED', 2, 1, 2, [null, 'DUPLICATE', 'MALFORMED'],
    ]);
  });

  it('assembles a chunked update and submits it whole', async () => {
    const s = session();
    s.join(join());
    const chunks = await splitTransfer('update', encodePayload(update()), { chunkBytes: 16 });
    const acks: Ack[] = [];
    for (const chunk of chunks) acks.push(await s.chunk(chunk));
    expect([chunks.length > 1, acks.every((a) => a.ok), submitted.length, submitted[0]?.numExamples]).toEqual([true, true, 1, 4]);
  });

  it('answers an event outside the protocol, and not a protocol event', () => {
    const s = session();
    expect([s.unknownEvent('join'), s.unknownEvent('hack')?.code]).toEqual([null, 'UNKNOWN_EVENT']);
  });

  it('sends an error event for bad progress and for a malformed packet', () => {
    const s = session();
    s.progress({ round: -1 });
    s.malformed({ code: 'MALFORMED', message: 'bad\npacket' });
    s.progress({ round: 0, step: 3 });
    expect([peer.errors.map((e) => e.code), s.record.lastProgress]).toEqual([['MALFORMED', 'MALFORMED'], { round: 0, step: 3 }]);
  });
});
