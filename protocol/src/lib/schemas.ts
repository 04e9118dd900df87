import { z } from 'zod';
import { ERROR_CODES, ErrorCode, type ParseResult, type ProtocolError } from './errors';
import { BYTES_PER_ELEMENT, elementCount } from './tensor';
import { DEFAULT_LIMITS } from './limits';
import { describeValue } from './describe';

/*
 * Convention: every custom `error` below is the *expected* phrase, so that a failure reads
 * "<event>.<path> must be <expected> but got <received>". Objects strip unknown keys so that a
 * newer peer may add optional fields without breaking an older one.
 */
const expect = (what: string) => ({ error: what });

const finite = (what = 'a finite number') => z.number(expect(what));
const int = (what: string) => z.number(expect(what)).int(expect(what));
const nonNegativeInt = (what = 'a non-negative integer') => int(what).nonnegative(expect(what));
const positiveInt = (what = 'a positive integer') => int(what).positive(expect(what));
const text = (max: number, what = `a string of 1 to ${max} characters`) =>
  z.string(expect(what)).min(1, expect(what)).max(max, expect(what));

const SHA256 = 'a 64-character lowercase hex sha256';
export const sha256Schema = z.string(expect(SHA256)).regex(/^[0-9a-f]{64}$/, expect(SHA256));

const ID = 'an id of 1 to 128 characters from [A-Za-z0-9_.:-]';
export const idSchema = z.string(expect(ID)).regex(/^[A-Za-z0-9_.:-]{1,128}$/, expect(ID));

export const roundSchema = nonNegativeInt('a non-negative integer round number');

export const errorCodeSchema = z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]], expect('a known error code'));

export const protocolErrorSchema = z.object({ code: errorCodeSchema, message: z.string(expect('a string')) });

// ---- tensors

// z.custom rather than z.instanceof: the inferred type stays Uint8Array (any backing buffer)
const bytesSchema = (what: string) => z.custom<Uint8Array>((v) => v instanceof Uint8Array, expect(what));

const TENSOR_NAME = `a tensor name of 1 to ${DEFAULT_LIMITS.maxNameLength} characters from [A-Za-z0-9_.-]`;

export const wireTensorSchema = z
  .object({
    name: z.string(expect(TENSOR_NAME)).regex(/^[A-Za-z0-9_.-]+$/, expect(TENSOR_NAME)).max(DEFAULT_LIMITS.maxNameLength, expect(TENSOR_NAME)),
    shape: z
      .array(positiveInt('a positive integer dimension'), expect('an array of dimensions'))
      .max(DEFAULT_LIMITS.maxRank, expect(`at most ${DEFAULT_LIMITS.maxRank} dimensions`)),
    dtype: z.enum(['f32', 'f16'], expect("'f32' or 'f16'")),
    data: bytesSchema('a Uint8Array of raw little-endian bytes'),
  })
  .check((ctx) => {
    const t = ctx.value;
    const expected = elementCount(t.shape) * BYTES_PER_ELEMENT[t.dtype];
    if (t.data.byteLength !== expected) {
      ctx.issues.push({
        code: 'custom',
        path: ['data'],
        input: t.data,
        message: `${expected} bytes for ${t.dtype} [${t.shape.join(',')}] (${t.name})`,
      });
    }
  });

/** A schema issue that PROTOCOL.md gives its own code rather than MALFORMED carries it in `params`. */
const withCode = (errorCode: ErrorCode) => ({ errorCode });

// the count is checked before the elements are parsed, so that a huge list costs nothing
const tensorList = z
  .custom<unknown[]>((v) => !Array.isArray(v) || v.length <= DEFAULT_LIMITS.maxTensors, {
    error: `at most ${DEFAULT_LIMITS.maxTensors} tensors`,
    params: withCode(ErrorCode.PAYLOAD_TOO_LARGE),
  })
  .pipe(z.array(wireTensorSchema, expect('an array of tensors')))
  .check((ctx) => {
    const seen = new Set<string>();
    ctx.value.forEach((t, i) => {
      if (seen.has(t.name)) {
        ctx.issues.push({ code: 'custom', path: [i, 'name'], input: t.name, message: 'a name not used by an earlier tensor', params: withCode(ErrorCode.TENSOR_NAME) });
      }
      seen.add(t.name);
    });
  });

// ---- handshake and join

export const authSchema = z.object({
  token: text(4096, 'a token string of 1 to 4096 characters'),
  clientId: idSchema.optional(),
});

export const capabilitiesSchema = z.object({
  backend: text(32, 'a backend name such as webgpu, webgl, wasm or cpu'),
  platform: z.enum(['node', 'browser'], expect("'node' or 'browser'")),
  userAgent: text(512).optional(),
  dtypes: z.array(z.enum(['f32', 'f16'], expect("'f32' or 'f16'"))).optional(),
});

/**
 * A client is ready to train a task once its backbone is downloaded and verified and its data folder
 * holds usable examples; the coordinator samples only ready clients.
 */
export const readySchema = z.object({
  taskId: idSchema,
  backbone: sha256Schema,
  examples: positiveInt('a positive number of usable local examples'),
});

export const joinSchema = z.object({
  protocolVersion: positiveInt('a positive integer protocol version'),
  capabilities: capabilitiesSchema,
  resume: z.object({ taskId: idSchema, lastRound: roundSchema }).optional(),
  ready: readySchema.optional(),
});

export const wireLimitsSchema = z.object({
  maxMessageBytes: positiveInt(),
  chunkBytes: positiveInt(),
  maxUpdateBytes: positiveInt(),
  maxTensors: positiveInt(),
  chunkTimeoutMs: positiveInt(),
});

// ---- task

export const backboneSchema = z.object({
  sha256: sha256Schema,
  url: text(2048, 'a model.safetensors URL'),
  configUrl: text(2048, 'a config.json URL'),
  bytes: positiveInt('the positive byte size of model.safetensors'),
  config: z.record(z.string(), z.unknown(), expect('the parsed config.json object')),
});

export const snellConfigSchema = z.looseObject({
  kernel: text(32, "a kernel name such as 'distance'"),
  p: finite(),
  scale: finite(),
  heads: positiveInt(),
  rank: positiveInt(),
  sparsity: finite('a sparsity in [0, 1)').min(0, expect('a sparsity in [0, 1)')).lt(1, expect('a sparsity in [0, 1)')),
  targets: z.array(text(64), expect('an array of target module names')),
});

export const trainerConfigSchema = z.looseObject({
  epochs: positiveInt(),
  batchSize: positiveInt(),
  lr: finite('a positive learning rate').positive(expect('a positive learning rate')),
  weightDecay: finite('a non-negative weight decay').nonnegative(expect('a non-negative weight decay')),
  schedule: text(32, "a schedule name such as 'cosine'"),
  seed: nonNegativeInt(),
});

export const dataRequirementsSchema = z.object({
  classes: z.array(text(256), expect('an array of class names')).min(1, expect('at least one class')),
  minExamples: positiveInt().optional(),
  /** Largest `numExamples` one update may carry: the most weight one client can have in a round. */
  maxExamples: positiveInt().optional(),
});

export const taskSchema = z.object({
  taskId: idSchema,
  backbone: backboneSchema,
  snell: snellConfigSchema,
  trainer: trainerConfigSchema,
  data: dataRequirementsSchema,
  updateDtype: z.enum(['f32', 'f16'], expect("'f32' or 'f16'")),
});

export const joinAckSchema = z.discriminatedUnion('ok', [
  z.object({
    ok: z.literal(true),
    protocolVersion: positiveInt(),
    clientId: idSchema,
    task: taskSchema,
    limits: wireLimitsSchema,
    currentRound: roundSchema.nullable(),
  }),
  z.object({
    ok: z.literal(false),
    error: protocolErrorSchema,
    supportedVersions: z.array(positiveInt()).optional(),
  }),
]);

// ---- rounds

export const roundStartSchema = z.object({
  taskId: idSchema,
  round: roundSchema,
  deadline: positiveInt('a deadline in epoch milliseconds'),
  seed: int('a 32-bit unsigned seed').min(0, expect('a 32-bit unsigned seed')).max(0xffffffff, expect('a 32-bit unsigned seed')),
  state: tensorList,
  overrides: z.record(z.string(), z.number(expect('a finite number')), expect('an object of numeric trainer overrides')).optional(),
});

export const metricsSchema = z.object({
  loss: finite(),
  accuracy: finite('an accuracy in [0, 1]').min(0, expect('an accuracy in [0, 1]')).max(1, expect('an accuracy in [0, 1]')),
  examplesPerSecond: finite('a non-negative number').nonnegative(expect('a non-negative number')),
  seconds: finite('a non-negative number of seconds').nonnegative(expect('a non-negative number of seconds')),
});

export const updateSchema = z.object({
  taskId: idSchema,
  round: roundSchema,
  tensors: tensorList,
  numExamples: positiveInt(),
  metrics: metricsSchema,
});

export const ackSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), error: protocolErrorSchema }),
]);

export const roundEndSchema = z.object({
  taskId: idSchema,
  round: roundSchema,
  status: z.enum(['aggregated', 'kept', 'failed', 'cancelled'], expect("'aggregated', 'kept', 'failed' or 'cancelled'")),
  updates: nonNegativeInt(),
  metrics: z.record(z.string(), z.number(expect('a finite number'))).optional(),
});

export const progressSchema = z.object({
  round: roundSchema,
  step: nonNegativeInt(),
  totalSteps: positiveInt().optional(),
  loss: finite().optional(),
});

/** Why a selected client cannot deliver an update this round. */
export const ROUND_FAILURE_REASONS = ['DATA', 'BACKBONE', 'TRAINING', 'RESOURCES', 'INTERNAL'] as const;

export const roundFailedSchema = z.object({
  taskId: idSchema,
  round: roundSchema,
  reason: z.enum(ROUND_FAILURE_REASONS, expect("'DATA', 'BACKBONE', 'TRAINING', 'RESOURCES' or 'INTERNAL'")),
  message: text(1024, 'a one-line message of 1 to 1024 characters'),
});

export const taskFinishedSchema = z.object({
  taskId: idSchema,
  /** Rounds closed in total (every status). */
  roundsCompleted: nonNegativeInt(),
  /** The last round that closed, or null when none did. */
  lastRound: roundSchema.nullable(),
  /** Server-side evaluation of the final global state, e.g. { accuracy, loss, count }; {} when none. */
  metrics: z.record(z.string(), z.number(expect('a finite number'))),
});

export const errorEventSchema = z.object({
  code: errorCodeSchema,
  message: z.string(expect('a string')),
  round: roundSchema.optional(),
});

// ---- chunked transfers

export const TRANSFER_EVENTS = ['update', 'round:start'] as const;

export const chunkSchema = z
  .object({
    transferId: idSchema,
    event: z.enum(TRANSFER_EVENTS, expect("'update' or 'round:start'")),
    index: nonNegativeInt(),
    total: positiveInt(),
    totalBytes: positiveInt(),
    sha256: sha256Schema,
    bytes: bytesSchema('a Uint8Array of payload bytes'),
  })
  .check((ctx) => {
    if (ctx.value.index >= ctx.value.total) {
      ctx.issues.push({ code: 'custom', path: ['index'], input: ctx.value.index, message: `an index below total (${ctx.value.total})` });
    }
  });

export const chunkAckSchema = ackSchema;

// ---- types

export type WireLimits = z.infer<typeof wireLimitsSchema>;
export type AuthPayload = z.infer<typeof authSchema>;
export type Capabilities = z.infer<typeof capabilitiesSchema>;
export type JoinRequest = z.infer<typeof joinSchema>;
export type Ready = z.infer<typeof readySchema>;
export type RoundFailed = z.infer<typeof roundFailedSchema>;
export type RoundFailureReason = (typeof ROUND_FAILURE_REASONS)[number];
export type TaskFinished = z.infer<typeof taskFinishedSchema>;
export type JoinAck = z.infer<typeof joinAckSchema>;
export type Backbone = z.infer<typeof backboneSchema>;
export type SnellConfig = z.infer<typeof snellConfigSchema>;
export type TrainerConfig = z.infer<typeof trainerConfigSchema>;
export type DataRequirements = z.infer<typeof dataRequirementsSchema>;
export type Task = z.infer<typeof taskSchema>;
export type RoundStart = z.infer<typeof roundStartSchema>;
export type UpdateMetrics = z.infer<typeof metricsSchema>;
export type Update = z.infer<typeof updateSchema>;
export type Ack = z.infer<typeof ackSchema>;
export type RoundEnd = z.infer<typeof roundEndSchema>;
export type Progress = z.infer<typeof progressSchema>;
export type ErrorEvent = z.infer<typeof errorEventSchema>;
export type TransferEvent = (typeof TRANSFER_EVENTS)[number];
export type Chunk = z.infer<typeof chunkSchema>;

// ---- parse helpers

/** Validates `value` against `schema`; the error message names `label`, the path, the expectation and the value. */
export function parseWith<T>(schema: z.ZodType<T>, label: string, value: unknown): ParseResult<T> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, error: toProtocolError(label, result.error.issues) };
}

function toProtocolError(label: string, issues: readonly z.core.$ZodIssue[]): ProtocolError {
  const issue = issues[0];
  const path = [label, ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))]
    .join('.')
    .replace(/\.\[/g, '[');
  let message: string;
  if (issue.code === 'unrecognized_keys') message = `${path} has unexpected keys ${issue.keys.join(', ')}`;
  else if (issue.code === 'invalid_union') message = `${path} must be one of the documented variants but got ${describeValue(issue.input)}`;
  else message = `${path} must be ${expectedPhrase(issue)} but got ${describeValue(issue.input)}`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return { code: issueCode(issue), message: message + more };
}

/** MALFORMED, unless the issue carries the code PROTOCOL.md gives it (a repeated tensor name, too many tensors). */
function issueCode(issue: z.core.$ZodIssue): ErrorCode {
  const params: unknown = issue.code === 'custom' ? issue.params : undefined;
  const code = typeof params === 'object' && params !== null && 'errorCode' in params ? params.errorCode : undefined;
  return code === ErrorCode.TENSOR_NAME || code === ErrorCode.PAYLOAD_TOO_LARGE ? code : ErrorCode.MALFORMED;
}

/** Our custom messages are expected phrases; zod's own defaults ("Invalid input: …") are rephrased. */
function expectedPhrase(issue: z.core.$ZodIssue): string {
  if (!issue.message.startsWith('Invalid input')) return issue.message;
  if (issue.code === 'invalid_type') return /^[aeiou]/.test(issue.expected) ? `an ${issue.expected}` : `a ${issue.expected}`;
  return issue.message;
}

export const parseAuth = (value: unknown) => parseWith(authSchema, 'auth', value);
export const parseJoin = (value: unknown) => parseWith(joinSchema, 'join', value);
export const parseJoinAck = (value: unknown) => parseWith(joinAckSchema, 'joinAck', value);
export const parseTask = (value: unknown) => parseWith(taskSchema, 'task', value);
export const parseRoundStart = (value: unknown) => parseWith(roundStartSchema, 'roundStart', value);
export const parseUpdate = (value: unknown) => parseWith(updateSchema, 'update', value);
export const parseAck = (value: unknown) => parseWith(ackSchema, 'ack', value);
export const parseRoundEnd = (value: unknown) => parseWith(roundEndSchema, 'roundEnd', value);
export const parseProgress = (value: unknown) => parseWith(progressSchema, 'progress', value);
export const parseReady = (value: unknown) => parseWith(readySchema, 'ready', value);
export const parseRoundFailed = (value: unknown) => parseWith(roundFailedSchema, 'roundFailed', value);
export const parseTaskFinished = (value: unknown) => parseWith(taskFinishedSchema, 'taskFinished', value);
export const parseErrorEvent = (value: unknown) => parseWith(errorEventSchema, 'error', value);
export const parseChunk = (value: unknown) => parseWith(chunkSchema, 'chunk', value);
export const parseWireTensor = (value: unknown) => parseWith(wireTensorSchema, 'tensor', value);
