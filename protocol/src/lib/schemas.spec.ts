import {
  parseAck,
  parseAuth,
  parseChunk,
  parseErrorEvent,
  parseJoin,
  parseJoinAck,
  parseProgress,
  parseReady,
  parseRoundFailed,
  parseTaskFinished,
  parseRoundEnd,
  parseRoundStart,
  parseTask,
  parseUpdate,
  parseWireTensor,
} from './schemas';
import type { ParseResult } from './errors';
import { validChunk, validJoin, validRoundStart, validTask, validUpdate } from './test-fixtures';

function messageOf<T>(result: ParseResult<T>): string {
  if (result.ok) throw new Error('expected a parse failure');
  expect(result.error.code).toBe('MALFORMED');
  return result.error.message;
}

describe('parseUpdate', () => {
  it('accepts a valid update', () => {
    expect(parseUpdate(validUpdate()).ok).toBe(true);
  });

  it('rejects a negative example count', () => {
    expect(messageOf(parseUpdate({ ...validUpdate(), numExamples: -3 }))).toBe('update.numExamples must be a positive integer but got -3');
  });

  it('rejects a missing round', () => {
    const { round: _round, ...rest } = validUpdate();
    expect(messageOf(parseUpdate(rest))).toBe('update.round must be a non-negative integer round number but got nothing');
  });

  it('rejects a NaN loss', () => {
    const u = validUpdate();
    expect(messageOf(parseUpdate({ ...u, metrics: { ...u.metrics, loss: NaN } }))).toBe('update.metrics.loss must be a finite number but got NaN');
  });

  it('rejects an accuracy above one', () => {
    const u = validUpdate();
    expect(messageOf(parseUpdate({ ...u, metrics: { ...u.metrics, accuracy: 1.5 } }))).toBe('update.metrics.accuracy must be an accuracy in [0, 1] but got 1.5');
  });

  it('rejects tensors sent as number arrays', () => {
    const u = validUpdate();
    const tensors = [{ ...u.tensors[0], data: [1, 2, 3] }];
    expect(messageOf(parseUpdate({ ...u, tensors }))).toBe('update.tensors[0].data must be a Uint8Array of raw little-endian bytes but got an array of length 3');
  });

  it('rejects duplicate tensor names with TENSOR_NAME', () => {
    const u = validUpdate();
    expect(parseUpdate({ ...u, tensors: [u.tensors[0], u.tensors[0]] })).toEqual({
      ok: false,
      error: { code: 'TENSOR_NAME', message: 'update.tensors[1].name must be a name not used by an earlier tensor but got "blocks.0.attn.q.snell_A"' },
    });
  });

  it('rejects more than maxTensors tensors with PAYLOAD_TOO_LARGE, before parsing them', () => {
    const u = validUpdate();
    expect(parseUpdate({ ...u, tensors: new Array(4097).fill(0) })).toEqual({
      ok: false,
      error: { code: 'PAYLOAD_TOO_LARGE', message: 'update.tensors must be at most 4096 tensors but got an array of length 4097' },
    });
  });

  it('counts further problems', () => {
    expect(messageOf(parseUpdate({ ...validUpdate(), round: -1, numExamples: 0 }))).toMatch(/\(and 1 more problem\)$/);
  });

  it('strips unknown fields', () => {
    const result = parseUpdate({ ...validUpdate(), extra: 1 });
    expect(result.ok && 'extra' in result.value).toBe(false);
  });
});

describe('parseWireTensor', () => {
  const tensor = () => validUpdate().tensors[0];

  it('rejects a byte length that does not match shape and dtype', () => {
    expect(messageOf(parseWireTensor({ ...tensor(), dtype: 'f16' }))).toBe(
      'tensor.data must be 8 bytes for f16 [1,2,2] (blocks.0.attn.q.snell_A) but got Uint8Array(16 bytes)',
    );
  });

  it('rejects an unknown dtype', () => {
    expect(messageOf(parseWireTensor({ ...tensor(), dtype: 'f64' }))).toBe(`tensor.dtype must be 'f32' or 'f16' but got "f64"`);
  });

  it('rejects a zero dimension', () => {
    expect(messageOf(parseWireTensor({ ...tensor(), shape: [0, 4] }))).toMatch(/^tensor\.shape\[0\] must be a positive integer dimension but got 0/);
  });

  it('rejects a name with path characters', () => {
    expect(messageOf(parseWireTensor({ ...tensor(), name: '../x' }))).toMatch(/^tensor\.name must be a tensor name/);
  });
});

describe('parseAuth', () => {
  it('accepts a token with a client id', () => {
    expect(parseAuth({ token: 't', clientId: 'c-1' }).ok).toBe(true);
  });

  it('rejects a missing token', () => {
    expect(messageOf(parseAuth({}))).toBe('auth.token must be a token string of 1 to 4096 characters but got nothing');
  });

  it('rejects a client id with spaces', () => {
    expect(messageOf(parseAuth({ token: 't', clientId: 'a b' }))).toMatch(/^auth\.clientId must be an id/);
  });
});

describe('parseJoin', () => {
  it('accepts a valid join', () => {
    expect(parseJoin(validJoin()).ok).toBe(true);
  });

  it('rejects a fractional protocol version', () => {
    expect(messageOf(parseJoin({ ...validJoin(), protocolVersion: 1.5 }))).toBe('join.protocolVersion must be a positive integer protocol version but got 1.5');
  });

  it('rejects an unknown platform', () => {
    expect(messageOf(parseJoin({ ...validJoin(), capabilities: { backend: 'wasm', platform: 'deno' } }))).toBe(
      `join.capabilities.platform must be 'node' or 'browser' but got "deno"`,
    );
  });

  it('rejects a negative resume round', () => {
    expect(messageOf(parseJoin({ ...validJoin(), resume: { taskId: 'task-1', lastRound: -1 } }))).toMatch(/^join\.resume\.lastRound must be/);
  });
});

describe('parseJoinAck', () => {
  it('accepts a refusal with supported versions', () => {
    const ack = { ok: false, error: { code: 'PROTOCOL_VERSION', message: 'no' }, supportedVersions: [1] };
    expect(parseJoinAck(ack).ok).toBe(true);
  });

  it('rejects an unknown error code', () => {
    expect(messageOf(parseJoinAck({ ok: false, error: { code: 'NOPE', message: 'x' } }))).toBe('joinAck.error.code must be a known error code but got "NOPE"');
  });
});

describe('parseTask', () => {
  it('accepts a valid task', () => {
    expect(parseTask(validTask()).ok).toBe(true);
  });

  it('rejects an uppercase sha256', () => {
    const t = validTask();
    expect(messageOf(parseTask({ ...t, backbone: { ...t.backbone, sha256: 'A'.repeat(64) } }))).toMatch(/^task\.backbone\.sha256 must be a 64-character lowercase hex sha256/);
  });

  it('rejects a sparsity of one', () => {
    const t = validTask();
    expect(messageOf(parseTask({ ...t, snell: { ...t.snell, sparsity: 1 } }))).toBe('task.snell.sparsity must be a sparsity in [0, 1) but got 1');
  });

  it('rejects an empty class list', () => {
    expect(messageOf(parseTask({ ...validTask(), data: { classes: [] } }))).toBe('task.data.classes must be at least one class but got an array of length 0');
  });
});

describe('parseRoundStart', () => {
  it('accepts a valid round start', () => {
    expect(parseRoundStart(validRoundStart()).ok).toBe(true);
  });

  it('rejects a seed above 32 bits', () => {
    expect(messageOf(parseRoundStart({ ...validRoundStart(), seed: 2 ** 32 }))).toBe('roundStart.seed must be a 32-bit unsigned seed but got 4294967296');
  });

  it('rejects a non-numeric override', () => {
    expect(messageOf(parseRoundStart({ ...validRoundStart(), overrides: { proximalMu: 'x' } }))).toBe('roundStart.overrides.proximalMu must be a finite number but got "x"');
  });
});

describe('small events', () => {
  it('parses an ok ack', () => {
    expect(parseAck({ ok: true })).toEqual({ ok: true, value: { ok: true } });
  });

  it('rejects an ack without ok', () => {
    expect(messageOf(parseAck({}))).toMatch(/^ack\.ok must be/);
  });

  it('rejects an unknown round status', () => {
    expect(messageOf(parseRoundEnd({ taskId: 'task-1', round: 1, status: 'done', updates: 2 }))).toBe(
      `roundEnd.status must be 'aggregated', 'kept', 'failed' or 'cancelled' but got "done"`,
    );
  });

  it('rejects a negative progress step', () => {
    expect(messageOf(parseProgress({ round: 1, step: -1 }))).toBe('progress.step must be a non-negative integer but got -1');
  });

  it('rejects an error event with an unknown code', () => {
    expect(messageOf(parseErrorEvent({ code: 'OOPS', message: 'x' }))).toBe('error.code must be a known error code but got "OOPS"');
  });
});

describe('parseChunk', () => {
  it('accepts a valid chunk', () => {
    expect(parseChunk(validChunk()).ok).toBe(true);
  });

  it('rejects an index past the total', () => {
    expect(messageOf(parseChunk({ ...validChunk(), index: 2 }))).toBe('chunk.index must be an index below total (2) but got 2');
  });

  it('rejects an event that cannot be chunked', () => {
    expect(messageOf(parseChunk({ ...validChunk(), event: 'join' }))).toBe(`chunk.event must be 'update' or 'round:start' but got "join"`);
  });
});

describe('ready, round:failed and task:finished', () => {
  const ready = () => ({ taskId: 'task-1', backbone: 'a'.repeat(64), examples: 120 });

  it('accepts a ready report, alone and inside a join', () => {
    expect(parseReady(ready()).ok).toBe(true);
    const join = parseJoin({ ...validJoin(), ready: ready() });
    expect(join.ok && join.value.ready).toEqual(ready());
  });

  it('rejects a ready report without examples', () => {
    expect(messageOf(parseReady({ ...ready(), examples: 0 }))).toBe('ready.examples must be a positive number of usable local examples but got 0');
  });

  it('accepts a round failure with a known reason', () => {
    expect(parseRoundFailed({ taskId: 'task-1', round: 2, reason: 'DATA', message: 'no decodable image in class cat' }).ok).toBe(true);
  });

  it('rejects a round failure with an unknown reason or an empty message', () => {
    expect(messageOf(parseRoundFailed({ taskId: 'task-1', round: 2, reason: 'BORED', message: 'x' }))).toBe(
      `roundFailed.reason must be 'DATA', 'BACKBONE', 'TRAINING', 'RESOURCES' or 'INTERNAL' but got "BORED"`,
    );
    expect(messageOf(parseRoundFailed({ taskId: 'task-1', round: 2, reason: 'DATA', message: '' }))).toMatch(/^roundFailed\.message must be a one-line message/);
  });

  it('accepts a task summary and refuses a non-finite metric', () => {
    expect(parseTaskFinished({ taskId: 'task-1', roundsCompleted: 3, lastRound: 2, metrics: { accuracy: 0.9 } }).ok).toBe(true);
    expect(parseTaskFinished({ taskId: 'task-1', roundsCompleted: 0, lastRound: null, metrics: {} }).ok).toBe(true);
    expect(messageOf(parseTaskFinished({ taskId: 'task-1', roundsCompleted: 3, lastRound: 2, metrics: { accuracy: NaN } }))).toBe(
      'taskFinished.metrics.accuracy must be a finite number but got NaN',
    );
  });
});
