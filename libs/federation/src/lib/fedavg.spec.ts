import { fedAvg, fedProx } from './fedavg';
import { context, tensors, update, valuesOf } from './fixtures.testing';
import { sampleRound } from './sampling';

describe('fedAvg', () => {
  it('weights clients by example count (1 and 3 → .25/.75)', async () => {
    const updates = [update('a', 1, { w: [0, 4] }), update('b', 3, { w: [4, 8] })];

    const result = await fedAvg().aggregate(context({ w: [0, 0] }), updates);

    expect(valuesOf(result?.state, 'w')).toEqual([3, 7]);
  });

  it('averages every tensor and keeps shapes', async () => {
    const updates = [update('a', 2, { w: [2], b: [10, 20] }), update('b', 2, { w: [4], b: [30, 40] })];

    const result = await fedAvg().aggregate(context({ w: [0], b: [0, 0] }), updates);

    expect(valuesOf(result?.state, 'w')).toEqual([3]);
    expect(valuesOf(result?.state, 'b')).toEqual([20, 30]);
    expect(result?.state.get('b')?.shape).toEqual([2]);
  });

  it('keeps the previous global when no client replied', async () => {
    expect(await fedAvg().aggregate(context({ w: [1] }), [])).toBeNull();
  });

  it('does not alias a client tensor in the result', async () => {
    const only = update('a', 1, { w: [1, 2] });

    const result = await fedAvg().aggregate(context({ w: [0, 0] }), [only]);

    expect(result?.state.get('w')?.data).not.toBe(only.state.get('w')?.data);
  });

  it('rejects clients that sent different tensors', async () => {
    const updates = [update('a', 1, { w: [1] }), update('b', 1, { v: [1] })];

    await expect(fedAvg().aggregate(context({ w: [0] }), updates)).rejects.toThrow(
      'fedavg.aggregate(): client b lacks tensor w that client a sent',
    );
  });

  it('rejects an extra tensor', async () => {
    const updates = [update('a', 1, { w: [1] }), update('b', 1, { w: [1], x: [2] })];

    await expect(fedAvg().aggregate(context({ w: [0] }), updates)).rejects.toThrow(
      'fedavg.aggregate(): client b sent tensor x that client a did not',
    );
  });

  it('rejects a non-positive example count', async () => {
    const updates = [update('a', 0, { w: [1] })];

    await expect(fedAvg().aggregate(context({ w: [0] }), updates)).rejects.toThrow(
      'fedavg.aggregate(): client a has numExamples 0, expected a positive number',
    );
  });
});

describe('fedProx', () => {
  it('aggregates like FedAvg on the server', async () => {
    const updates = [update('a', 1, { w: [0] }), update('b', 3, { w: [4] })];

    const result = await fedProx({ proximalMu: 0.01 }).aggregate(context({ w: [0] }), updates);

    expect(valuesOf(result?.state, 'w')).toEqual([3]);
  });

  it('hands proximalMu to the trainers of every round it samples', () => {
    const strategy = fedProx({ proximalMu: 0.01 });
    const ctx = { round: 3, global: tensors({ w: [0] }), candidates: ['c', 'a', 'b'], sampling: { fraction: 0.5, minClients: 1, maxClients: 10 } };

    const config = strategy.configure?.({ ...ctx, rng: () => 0 });

    expect(config).toEqual({ clients: sampleRound({ ...ctx, rng: () => 0 }).clients, overrides: { proximalMu: 0.01 } });
    expect(config?.clients).toEqual(['a', 'b']);
    expect(strategy.summary()).toEqual({ name: 'fedprox', weighting: 'numExamples', proximalMu: 0.01 });
  });

  it('rejects a negative proximalMu', () => {
    expect(() => fedProx({ proximalMu: -1 })).toThrow('proximalMu passed to fedProx() must be a finite number ≥ 0 but got -1');
  });
});
