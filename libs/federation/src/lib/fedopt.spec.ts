import { context, update, valuesOf } from './fixtures.testing';
import { fedAdagrad, fedAdam, fedYogi } from './fedopt';

// Every case starts from global 0 and clients whose mean is 2, so the pseudo-gradient Δ is 2 and
// the numbers below can be followed by hand.
const towardTwo = () => [update('a', 1, { w: [1] }), update('b', 1, { w: [3] })];

describe('FedOpt server optimizers', () => {
  it('FedAdagrad: m = .5·2 = 1, v = 1.5² + 2² = 6.25, x = 1/(2.5 + 1.5)', async () => {
    const strategy = fedAdagrad({ serverLr: 1, beta1: 0.5, tau: 1.5 });

    const result = await strategy.aggregate(context({ w: [0] }), towardTwo());

    expect(valuesOf(result?.state, 'w')).toEqual([0.25]);
  });

  it('FedAdam: m = 1, v = .5·2² + .5·2² = 4, x = 1/(2 + 2)', async () => {
    const strategy = fedAdam({ serverLr: 1, beta1: 0.5, beta2: 0.5, tau: 2 });

    const result = await strategy.aggregate(context({ w: [0] }), towardTwo());

    expect(valuesOf(result?.state, 'w')).toEqual([0.25]);
  });

  it('FedYogi: m = 1, v = 1 + .75·2² = 4 (v < Δ²), x = 1/(2 + 1)', async () => {
    const strategy = fedYogi({ serverLr: 1, beta1: 0.5, beta2: 0.25, tau: 1 });

    const result = await strategy.aggregate(context({ w: [0] }), towardTwo());

    expect(valuesOf(result?.state, 'w')[0]).toBeCloseTo(1 / 3, 7);
  });

  it('FedYogi: a zero Δ keeps v and decays m (x = .5/(2 + 1))', async () => {
    const strategy = fedYogi({ serverLr: 1, beta1: 0.5, beta2: 0.25, tau: 1 });
    await strategy.aggregate(context({ w: [0] }), towardTwo());

    const result = await strategy.aggregate(context({ w: [0] }, 2), [update('a', 1, { w: [0] })]);

    expect(valuesOf(result?.state, 'w')[0]).toBeCloseTo(1 / 6, 7);
  });

  it('FedAdam: steps from the global, scaled by serverLr', async () => {
    const strategy = fedAdam({ serverLr: 0.1, beta1: 0.5, beta2: 0.5, tau: 2 });

    const result = await strategy.aggregate(context({ w: [10] }), [update('a', 1, { w: [12] })]);

    expect(valuesOf(result?.state, 'w')[0]).toBeCloseTo(10.025, 5);
  });

  it('weights the pseudo-gradient by example count', async () => {
    const strategy = fedAdagrad({ serverLr: 1, beta1: 0.5, tau: 1.5 });
    const updates = [update('a', 3, { w: [0] }), update('b', 1, { w: [8] })];

    const result = await strategy.aggregate(context({ w: [0] }), updates);

    expect(valuesOf(result?.state, 'w')).toEqual([0.25]);
  });

  it('resumes from serialised state exactly', async () => {
    const options = { serverLr: 0.3, beta1: 0.9, beta2: 0.99, tau: 1e-3 };
    const original = fedAdam(options);
    await original.aggregate(context({ w: [0, 1] }), [update('a', 1, { w: [0.5, -1] })]);
    const restored = fedAdam(options);
    restored.restoreState(JSON.parse(JSON.stringify(original.serializeState())));
    const next = () => [update('a', 1, { w: [0.2, 0.7] })];

    const a = await original.aggregate(context({ w: [0.1, 0.9] }, 2), next());
    const b = await restored.aggregate(context({ w: [0.1, 0.9] }, 2), next());

    expect(valuesOf(b?.state, 'w')).toEqual(valuesOf(a?.state, 'w'));
    expect(b?.info?.['serverSteps']).toBe(2);
  });

  it('rejects state of another variant', () => {
    const adam = fedAdam();

    expect(() => adam.restoreState(fedYogi().serializeState())).toThrow(
      "fedadam.restoreState(): expected {variant: 'fedadam', steps, moments}",
    );
  });

  it('rejects moments whose length does not match their shape', () => {
    const state = { variant: 'fedadam', steps: 1, moments: { w: { shape: [2], m: [0], v: [1] } } };

    expect(() => fedAdam().restoreState(state)).toThrow('fedadam.restoreState(): moments for w must be {shape, m, v}');
  });

  it('changes nothing when the global lacks a tensor', async () => {
    const strategy = fedAdam();
    const before = JSON.stringify(strategy.serializeState());

    await expect(strategy.aggregate(context({ v: [0] }), [update('a', 1, { w: [1] })])).rejects.toThrow(
      'fedadam.aggregate(): the global state has no tensor w that clients sent',
    );
    expect(JSON.stringify(strategy.serializeState())).toBe(before);
  });

  it('rejects a tensor whose shape changed since the last round', async () => {
    const strategy = fedAdam();
    await strategy.aggregate(context({ w: [0] }), [update('a', 1, { w: [1] })]);

    await expect(strategy.aggregate(context({ w: [0, 0] }), [update('a', 1, { w: [1, 1] })])).rejects.toThrow(
      'fedadam.aggregate(): optimizer state for w has shape [1] but clients sent [2]',
    );
  });

  it('summarises its effective configuration', () => {
    expect(fedYogi({ serverLr: 0.05 }).summary()).toEqual({
      name: 'fedyogi',
      weighting: 'numExamples',
      serverLr: 0.05,
      beta1: 0.9,
      beta2: 0.99,
      tau: 1e-3,
      initialVariance: 1e-6,
    });
  });

  it('rejects tau = 0', () => {
    expect(() => fedAdam({ tau: 0 })).toThrow('tau passed to fedadam() must be a finite number > 0 but got 0');
  });

  it('rejects beta1 = 1', () => {
    expect(() => fedYogi({ beta1: 1 })).toThrow('beta1 passed to fedyogi() must be in [0, 1) but got 1');
  });

  it('keeps the previous global when no client replied', async () => {
    expect(await fedAdam().aggregate(context({ w: [0] }), [])).toBeNull();
  });
});
