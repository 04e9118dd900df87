import { createStrategy, StrategyConfig } from './create-strategy';
import { context, update, valuesOf } from './fixtures.testing';
import { SNELL } from './snell-testing';

describe('createStrategy', () => {
  it.each(['fedavg', 'fedadam', 'fedyogi', 'fedadagrad', 'median'] as const)('builds %s', (name) => {
    expect(createStrategy({ name }).name).toBe(name);
  });

  it('passes options through', () => {
    expect(createStrategy({ name: 'trimmed-mean', beta: 0.1 }).summary()).toMatchObject({ beta: 0.1 });
    expect(createStrategy({ name: 'fedprox', proximalMu: 0.5 }).summary()).toMatchObject({ proximalMu: 0.5 });
    expect(createStrategy({ name: 'fedadam', serverLr: 0.2 }).summary()).toMatchObject({ serverLr: 0.2, tau: 1e-3 });
    expect(createStrategy({ name: 'snell-exact', snell: SNELL, refitSteps: 7 }).summary()).toMatchObject({ refitSteps: 7 });
  });

  it('wraps with norm clipping when asked', async () => {
    const strategy = createStrategy({ name: 'fedavg', clipping: { maxNorm: 1 } });

    const result = await strategy.aggregate(context({ w: [0] }), [update('a', 1, { w: [4] })]);

    expect(strategy.name).toBe('fedavg+clip');
    expect(valuesOf(result?.state, 'w')).toEqual([1]);
  });

  it('rejects an unknown name', () => {
    const config: StrategyConfig = JSON.parse('{"name": "krum"}');

    expect(() => createStrategy(config)).toThrow(
      "strategy name passed to createStrategy() must be one of fedavg|fedprox|fedadam|fedyogi|fedadagrad|median|trimmed-mean|snell-exact but got 'krum'",
    );
  });
});
