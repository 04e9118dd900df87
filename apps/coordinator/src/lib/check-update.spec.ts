import { encodeTensor, type Update } from '@fedsnell/protocol';
import type { TensorMap } from '@fedsnell/tensor-io';
import { checkUpdateTensors, type UpdateExpectations } from './check-update';

const global: TensorMap = new Map([
  ['a', { shape: [2], data: new Float32Array([0, 0]) }],
  ['b', { shape: [1, 2], data: new Float32Array([1, 1]) }],
]);

const update = (tensors = [encodeTensor('a', [2], new Float32Array([3, 4])), encodeTensor('b', [1, 2], new Float32Array([1, 1]))]): Update => ({
  taskId: 't',
  round: 0,
  tensors,
  numExamples: 5,
  metrics: { loss: 1, accuracy: 0.5, examplesPerSecond: 1, seconds: 1 },
});

const expectations = (over: Partial<UpdateExpectations> = {}): UpdateExpectations => ({
  clientId: 'c1',
  global,
  dtype: 'f32',
  limits: { maxTensors: 10, maxUpdateBytes: 1000 },
  ...over,
});

function codeOf(u: Update, over: Partial<UpdateExpectations> = {}) {
  const result = checkUpdateTensors(u, expectations(over));
  return result.ok ? 'ok' : result.error.code;
}

describe('checkUpdateTensors', () => {
  it('accepts a matching update', () => {
    const result = checkUpdateTensors(update(), expectations());
    expect(result.ok && Array.from(result.value.state.get('a')?.data ?? [])).toEqual([3, 4]);
  });

  it('refuses a missing tensor', () => {
    const result = checkUpdateTensors(update([encodeTensor('a', [2], new Float32Array(2))]), expectations());
    expect(!result.ok && result.error).toEqual({ code: 'TENSOR_NAME', message: 'client c1 did not send b; update dropped' });
  });

  it('refuses an extra tensor', () => {
    expect(codeOf(update([...update().tensors, encodeTensor('c', [1], new Float32Array(1))]))).toBe('TENSOR_NAME');
  });

  it('refuses a wrong shape', () => {
    const result = checkUpdateTensors(update([update().tensors[0], encodeTensor('b', [2, 1], new Float32Array(2))]), expectations());
    expect(!result.ok && result.error.message).toBe('client c1 sent b with shape [2,1], expected [1,2]; update dropped');
  });

  it('refuses a wrong dtype', () => {
    expect(codeOf(update(), { dtype: 'f16' })).toBe('TENSOR_DTYPE');
  });

  it('refuses NaN', () => {
    const result = checkUpdateTensors(update([encodeTensor('a', [2], new Float32Array([1, NaN])), update().tensors[1]]), expectations());
    expect(!result.ok && result.error.message).toBe('client c1 sent a with NaN at index 1; update dropped');
  });

  it('refuses infinity in f16', () => {
    const tensors = [encodeTensor('a', [2], new Float32Array([1, 70000]), 'f16'), encodeTensor('b', [1, 2], new Float32Array(2), 'f16')];
    expect(codeOf(update(tensors), { dtype: 'f16' })).toBe('NON_FINITE');
  });

  it('refuses an update beyond the norm bound', () => {
    // |(3,4) - (0,0)| = 5
    expect([codeOf(update(), { maxUpdateNorm: 4.9 }), codeOf(update(), { maxUpdateNorm: 5 })]).toEqual(['NORM_BOUND', 'ok']);
  });

  it('refuses too many tensors', () => {
    expect(codeOf(update(), { limits: { maxTensors: 1, maxUpdateBytes: 1000 } })).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses too many bytes', () => {
    expect(codeOf(update(), { limits: { maxTensors: 10, maxUpdateBytes: 15 } })).toBe('PAYLOAD_TOO_LARGE');
  });
});
