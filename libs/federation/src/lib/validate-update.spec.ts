import { encodeTensor, type Update, type WireTensor } from '@fedsnell/protocol';
import type { TensorMap } from '@fedsnell/tensor-io';
import { validateUpdate, type UpdateExpectations } from './validate-update';

const NAME = 'blocks.3.mlp.fc1.snell_A';

const global: TensorMap = new Map([
  [NAME, { shape: [2, 1, 2], data: new Float32Array(4) }],
  ['head.bias', { shape: [2], data: new Float32Array([1, 1]) }],
]);

const good = (): WireTensor[] => [encodeTensor(NAME, [2, 1, 2], new Float32Array([3, 4, 0, 0])), encodeTensor('head.bias', [2], new Float32Array([1, 1]))];

const update = (tensors = good(), over: Partial<Update> = {}): Update => ({
  taskId: 't',
  round: 0,
  tensors,
  numExamples: 5,
  metrics: { loss: 1, accuracy: 0.5, examplesPerSecond: 1, seconds: 1 },
  ...over,
});

const expectations = (over: Partial<UpdateExpectations> = {}): UpdateExpectations => ({
  clientId: 'c7',
  global,
  dtype: 'f32',
  limits: { maxTensors: 10, maxUpdateBytes: 1000 },
  ...over,
});

function errorOf(u: Update, over: Partial<UpdateExpectations> = {}) {
  const result = validateUpdate(u, expectations(over));
  return result.ok ? 'ok' : result.error;
}

const codeOf = (u: Update, over: Partial<UpdateExpectations> = {}) => {
  const error = errorOf(u, over);
  return error === 'ok' ? error : error.code;
};

describe('validateUpdate', () => {
  it('accepts a matching update and decodes it as the strategies take it', () => {
    const result = validateUpdate(update(), expectations());
    expect(result.ok && [result.value.clientId, result.value.numExamples, Array.from(result.value.state.get(NAME)?.data ?? []), result.value.state.get(NAME)?.shape]).toEqual([
      'c7', 5, [3, 4, 0, 0], [2, 1, 2],
    ]);
  });

  it('refuses a missing tensor', () => {
    expect(errorOf(update([good()[0]]))).toEqual({ code: 'TENSOR_NAME', message: 'client c7 did not send head.bias; update dropped' });
  });

  it('refuses an extra tensor', () => {
    expect(errorOf(update([...good(), encodeTensor('pos_embed', [1], new Float32Array(1))]))).toEqual({
      code: 'TENSOR_NAME',
      message: 'client c7 sent unexpected tensor pos_embed; update dropped',
    });
  });

  it('refuses a tensor sent twice', () => {
    expect(errorOf(update([...good(), good()[1]]))).toEqual({ code: 'TENSOR_NAME', message: 'client c7 sent head.bias twice; update dropped' });
  });

  it('names the tensor, the shape sent and the shape expected', () => {
    expect(errorOf(update([encodeTensor(NAME, [2, 2, 1], new Float32Array(4)), good()[1]]))).toEqual({
      code: 'TENSOR_SHAPE',
      message: `client c7 sent ${NAME} with shape [2,2,1], expected [2,1,2]; update dropped`,
    });
  });

  it('refuses data that does not fill the shape', () => {
    const short = { ...good()[1], data: new Uint8Array(4) };
    expect(errorOf(update([good()[0], short]))).toEqual({ code: 'TENSOR_SHAPE', message: 'client c7 sent head.bias with 4 bytes, f32 [2] needs 8; update dropped' });
  });

  it('refuses a wrong dtype', () => {
    expect(codeOf(update(), { dtype: 'f16' })).toBe('TENSOR_DTYPE');
  });

  it.each([NaN, Infinity, -Infinity])('refuses %s', (bad) => {
    expect(errorOf(update([good()[0], encodeTensor('head.bias', [2], new Float32Array([0, bad]))]))).toEqual({
      code: 'NON_FINITE',
      message: `client c7 sent head.bias with ${bad} at index 1; update dropped`,
    });
  });

  it('refuses infinity in f16', () => {
    const tensors = [encodeTensor(NAME, [2, 1, 2], new Float32Array([1, 70000, 0, 0]), 'f16'), encodeTensor('head.bias', [2], new Float32Array(2), 'f16')];
    expect(codeOf(update(tensors), { dtype: 'f16' })).toBe('NON_FINITE');
  });

  it.each([0, -3, 2.5, NaN])('refuses numExamples %s', (count) => {
    expect(errorOf(update(good(), { numExamples: count }))).toEqual({
      code: 'MALFORMED',
      message: `client c7 sent numExamples ${count}, expected a positive integer; update dropped`,
    });
  });

  it('refuses more examples than task.data.maxExamples', () => {
    expect([codeOf(update(), { maxExamples: 4 }), codeOf(update(), { maxExamples: 5 })]).toEqual(['MALFORMED', 'ok']);
  });

  it('refuses an update beyond the norm bound', () => {
    // |(3,4) - (0,0)| = 5
    expect([codeOf(update(), { maxUpdateNorm: 4.9 }), codeOf(update(), { maxUpdateNorm: 5 })]).toEqual(['NORM_BOUND', 'ok']);
  });

  it('refuses an update beyond the bound relative to the global norm', () => {
    // ‖global‖ = √2 → the bound is 3.5 · √2 ≈ 4.95 < 5, and 3.6 · √2 ≈ 5.09 ≥ 5
    expect([codeOf(update(), { maxRelativeUpdateNorm: 3.5 }), codeOf(update(), { maxRelativeUpdateNorm: 3.6 })]).toEqual(['NORM_BOUND', 'ok']);
  });

  it('refuses too many tensors', () => {
    expect(codeOf(update(), { limits: { maxTensors: 1, maxUpdateBytes: 1000 } })).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses too many bytes', () => {
    expect(codeOf(update(), { limits: { maxTensors: 10, maxUpdateBytes: 23 } })).toBe('PAYLOAD_TOO_LARGE');
  });

  it('reports the first failure in the documented order: examples, size, names, shapes, dtype, values, norm', () => {
    const wrong = [encodeTensor(NAME, [4], new Float32Array([NaN, 0, 0, 0]), 'f16')];
    expect([
      codeOf(update(wrong, { numExamples: 9 }), { maxExamples: 5, limits: { maxTensors: 0, maxUpdateBytes: 0 } }),
      codeOf(update(wrong), { limits: { maxTensors: 0, maxUpdateBytes: 0 } }),
      codeOf(update(wrong)),
      codeOf(update([wrong[0], good()[1]])),
      codeOf(update([encodeTensor(NAME, [2, 1, 2], new Float32Array([NaN, 0, 0, 0]), 'f16'), good()[1]])),
      codeOf(update([encodeTensor(NAME, [2, 1, 2], new Float32Array([NaN, 9, 9, 9])), good()[1]]), { maxUpdateNorm: 1 }),
    ]).toEqual(['MALFORMED', 'PAYLOAD_TOO_LARGE', 'TENSOR_NAME', 'TENSOR_SHAPE', 'TENSOR_DTYPE', 'NON_FINITE']);
  });
});
