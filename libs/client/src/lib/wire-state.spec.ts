import { decodeTensor, encodeTensor } from '@fedsnell/protocol';
import { fromWire, toUpdateTensors } from './wire-state';

const global = [encodeTensor('head.bias', [2], new Float32Array([1, 2])), encodeTensor('cls_token', [1, 1, 2], new Float32Array([3, 4]))];

describe('fromWire', () => {
  it('decodes names, shapes and values in order', () => {
    const state = fromWire(global);
    expect([...state].map(([n, t]) => [n, t.shape, Array.from(t.data)])).toEqual([
      ['head.bias', [2], [1, 2]],
      ['cls_token', [1, 1, 2], [3, 4]],
    ]);
  });
});

describe('toUpdateTensors', () => {
  it('sends only the global names, in the global order', () => {
    const trained = new Map([
      ['cls_token', { shape: [1, 1, 2], data: new Float32Array([5, 6]) }],
      ['extra.secret', { shape: [1], data: new Float32Array([9]) }],
      ['head.bias', { shape: [2], data: new Float32Array([7, 8]) }],
    ]);
    const out = toUpdateTensors(global, trained, 'f32');
    expect(out.map((t) => [t.name, Array.from(decodeTensor(t))])).toEqual([
      ['head.bias', [7, 8]],
      ['cls_token', [5, 6]],
    ]);
  });

  it('encodes the task dtype', () => {
    const trained = new Map([
      ['head.bias', { shape: [2], data: new Float32Array([0.5, 1]) }],
      ['cls_token', { shape: [1, 1, 2], data: new Float32Array([2, 3]) }],
    ]);
    expect(toUpdateTensors(global, trained, 'f16').map((t) => [t.dtype, t.data.byteLength])).toEqual([
      ['f16', 4],
      ['f16', 4],
    ]);
  });

  it('refuses a missing tensor', () => {
    const trained = new Map([['head.bias', { shape: [2], data: new Float32Array([7, 8]) }]]);
    expect(() => toUpdateTensors(global, trained, 'f32')).toThrow("the trained state has no tensor 'cls_token'");
  });

  it('refuses a changed shape', () => {
    const trained = new Map([
      ['head.bias', { shape: [1, 2], data: new Float32Array([7, 8]) }],
      ['cls_token', { shape: [1, 1, 2], data: new Float32Array([5, 6]) }],
    ]);
    expect(() => toUpdateTensors(global, trained, 'f32')).toThrow("'head.bias' must keep the global shape [2] but got [1,2]");
  });
});
