import { tensors } from './fixtures.testing';
import { UpdateValidationError, validateUpdate } from './validate-update';
import type { ClientUpdate } from './types';

const NAME = 'blocks.3.mlp.fc1.snell_A';
const expected = new Map([
  [NAME, { shape: [2, 64, 8] }],
  ['head.bias', { shape: [2] }],
]);

function valid(): ClientUpdate {
  return {
    clientId: 'c7',
    numExamples: 10,
    state: tensors({ [NAME]: [[2, 64, 8], new Array(2 * 64 * 8).fill(0.5)], 'head.bias': [1, 2] }),
  };
}

describe('validateUpdate', () => {
  it('accepts a well-formed reply', () => {
    expect(validateUpdate(valid(), expected)).toBeNull();
  });

  it('names the tensor, the shape sent and the shape expected', () => {
    const reply = valid();
    reply.state.set(NAME, { shape: [2, 64, 4], data: new Float32Array(2 * 64 * 4) });

    const error = validateUpdate(reply, expected);

    expect(error).toBeInstanceOf(UpdateValidationError);
    expect(error?.message).toBe(`client c7 sent ${NAME} with shape [2,64,4], expected [2,64,8]; reply dropped`);
    expect(error).toMatchObject({ code: 'TENSOR_SHAPE', clientId: 'c7', tensor: NAME });
  });

  it('catches data that does not fill the shape', () => {
    const reply = valid();
    reply.state.set('head.bias', { shape: [2], data: new Float32Array(3) });

    expect(validateUpdate(reply, expected)?.message).toBe(
      'client c7 sent head.bias with 3 values, shape [2] needs 2; reply dropped',
    );
  });

  it('reports a missing tensor', () => {
    const reply = valid();
    reply.state.delete('head.bias');

    expect(validateUpdate(reply, expected)).toMatchObject({
      code: 'TENSOR_NAME',
      message: 'client c7 did not send head.bias; reply dropped',
    });
  });

  it('reports an extra tensor', () => {
    const reply = valid();
    reply.state.set('pos_embed', { shape: [1], data: new Float32Array(1) });

    expect(validateUpdate(reply, expected)).toMatchObject({
      code: 'TENSOR_NAME',
      message: 'client c7 sent unexpected tensor pos_embed; reply dropped',
    });
  });

  it.each([NaN, Infinity, -Infinity])('reports %s', (bad) => {
    const reply = valid();
    reply.state.set('head.bias', { shape: [2], data: new Float32Array([0, bad]) });

    expect(validateUpdate(reply, expected)).toMatchObject({
      code: 'NON_FINITE',
      message: `client c7 sent head.bias with ${bad} at index 1; reply dropped`,
    });
  });

  it.each([0, -3, 2.5, NaN])('reports numExamples %s', (count) => {
    const reply = { ...valid(), numExamples: count };

    expect(validateUpdate(reply, expected)).toMatchObject({
      code: 'MALFORMED',
      message: `client c7 sent numExamples ${count}, expected a positive integer; reply dropped`,
    });
  });
});
