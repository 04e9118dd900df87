import { fedAvg, fedProx } from './fedavg';
import { fedAdam } from './fedopt';
import { context, tensors, update, valuesOf } from './fixtures.testing';
import { updateNorm, withNormClipping } from './norm-clipping';

describe('updateNorm', () => {
  it('measures state − global over all tensors', () => {
    const norm = updateNorm(update('a', 1, { w: [1, 3], b: [5] }), context({ w: [1, 0], b: [1] }).global);

    expect(norm).toBe(5);
  });
});

describe('withNormClipping', () => {
  it('scales an over-long update onto the bound', async () => {
    const strategy = withNormClipping(fedAvg(), { maxNorm: 1 });

    const result = await strategy.aggregate(context({ w: [1, 1] }), [update('a', 1, { w: [4, 5] })]);

    const [x, y] = valuesOf(result?.state, 'w');
    expect(x).toBeCloseTo(1.6, 6);
    expect(y).toBeCloseTo(1.8, 6);
    expect(result?.info).toMatchObject({ clipped: 1, rejected: 0, largestUpdateNorm: 5 });
  });

  it('leaves an update within the bound unchanged', async () => {
    const strategy = withNormClipping(fedAvg(), { maxNorm: 5 });

    const result = await strategy.aggregate(context({ w: [0, 0] }), [update('a', 1, { w: [3, 4] })]);

    expect(valuesOf(result?.state, 'w')).toEqual([3, 4]);
    expect(result?.info?.['clipped']).toBe(0);
  });

  it('clips before averaging', async () => {
    const strategy = withNormClipping(fedAvg(), { maxNorm: 2 });
    const updates = [update('a', 1, { w: [10] }), update('b', 1, { w: [1] })];

    const result = await strategy.aggregate(context({ w: [0] }), updates);

    expect(valuesOf(result?.state, 'w')).toEqual([1.5]);
  });

  it('drops an over-long client in reject mode', async () => {
    const strategy = withNormClipping(fedAvg(), { maxNorm: 2, onExceed: 'reject' });
    const updates = [update('a', 1, { w: [10] }), update('b', 1, { w: [1] })];

    const result = await strategy.aggregate(context({ w: [0] }), updates);

    expect(valuesOf(result?.state, 'w')).toEqual([1]);
    expect(result?.info).toMatchObject({ rejected: 1, rejectedClients: 'a' });
  });

  it('keeps the previous global when every client is rejected', async () => {
    const strategy = withNormClipping(fedAvg(), { maxNorm: 2, onExceed: 'reject' });

    expect(await strategy.aggregate(context({ w: [0] }), [update('a', 1, { w: [10] })])).toBeNull();
  });

  it('passes the inner strategy state through', async () => {
    const strategy = withNormClipping(fedAdam(), { maxNorm: 1 });
    await strategy.aggregate(context({ w: [0] }), [update('a', 1, { w: [1] })]);

    expect(strategy.serializeState?.()).toMatchObject({ variant: 'fedadam', steps: 1 });
  });

  it("keeps the inner strategy's round configuration", () => {
    const ctx = { round: 0, global: tensors({ w: [0] }), candidates: ['a', 'b'], sampling: { fraction: 1, minClients: 1, maxClients: 10 }, rng: () => 0 };

    expect(withNormClipping(fedProx({ proximalMu: 0.5 }), { maxNorm: 1 }).configure?.(ctx)).toEqual({ clients: ['a', 'b'], overrides: { proximalMu: 0.5 } });
    expect(withNormClipping(fedAvg(), { maxNorm: 1 }).configure).toBeUndefined();
  });

  it('has no state when the inner strategy has none', () => {
    expect(withNormClipping(fedAvg(), { maxNorm: 1 }).serializeState).toBeUndefined();
  });

  it('names itself and its bound in the summary', () => {
    const summary = withNormClipping(fedAvg(), { maxNorm: 3, onExceed: 'reject' }).summary();

    expect(summary).toMatchObject({ name: 'fedavg+norm-reject', maxNorm: 3, onExceed: 'reject' });
  });

  it('rejects a non-positive bound', () => {
    expect(() => withNormClipping(fedAvg(), { maxNorm: 0 })).toThrow(
      'maxNorm passed to withNormClipping() must be a finite number > 0 but got 0',
    );
  });
});
