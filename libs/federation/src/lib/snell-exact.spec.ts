import * as tf from '@tensorflow/tfjs';
import { useBackend } from '@fedsnell/backends';
import { fedAvg } from './fedavg';
import { context } from './fixtures.testing';
import { snellExact } from './snell-exact';
import { SNELL, snellClients } from './snell-testing';

const MODULE = 'blocks.0.attn.q';
const ctx = context({});

describe('snellExact', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('lowers the aggregation gap below the factor average', async () => {
    const result = await snellExact({ snell: SNELL, refitSteps: 40, refitLr: 1e-2 }).aggregate(ctx, snellClients(3, 0.5));

    const gap = result?.gaps?.[MODULE] ?? NaN;
    expect(gap).toBeLessThan(Number(result?.info?.['meanGapFactorAverage']));
    expect(result?.info?.['refitted']).toBe(1);
  });

  it('leaks no tensors', async () => {
    const before = tf.memory().numTensors;

    await snellExact({ snell: SNELL, refitSteps: 3 }).aggregate(ctx, snellClients(2, 0.5));

    expect(tf.memory().numTensors).toBe(before);
  });

  it('averages dense tensors by example count', async () => {
    const result = await snellExact({ snell: SNELL, refitSteps: 2 }).aggregate(ctx, snellClients(2, 0.5));

    expect(result?.state.get('head.bias')?.data).toEqual(new Float32Array([2 / 3]));
  });

  it('with 0 steps hands out the factor average and its gap', async () => {
    const clients = snellClients(2, 0.5);

    const exact = await snellExact({ snell: SNELL, refitSteps: 0 }).aggregate(ctx, clients);
    const plain = await fedAvg().aggregate(ctx, clients);

    expect(exact?.state.get(`${MODULE}.snell_A`)).toEqual(plain?.state.get(`${MODULE}.snell_A`));
    expect(exact?.gaps?.[MODULE]).toBeGreaterThan(0);
    expect(exact?.info?.['refitted']).toBe(0);
  });

  it('reports no gap for identical clients', async () => {
    const [one] = snellClients(1, 0.5);

    const result = await snellExact({ snell: SNELL, refitSteps: 2 }).aggregate(ctx, [one, { ...one, clientId: 'twin' }]);

    expect(result?.gaps).toEqual({ [MODULE]: 0 });
  });

  it('keeps the previous global when no client replied', async () => {
    expect(await snellExact({ snell: SNELL }).aggregate(ctx, [])).toBeNull();
  });

  it('summarises the re-fit and the SNELL mode', () => {
    expect(snellExact({ snell: SNELL, refitSteps: 50 }).summary()).toMatchObject({ name: 'snell-exact', refitSteps: 50, refitLr: 1e-3 });
  });

  it('re-fits nothing unless asked', async () => {
    const result = await snellExact({ snell: SNELL }).aggregate(ctx, snellClients(3, 0.5));

    expect(snellExact({ snell: SNELL }).summary()).toMatchObject({ refitSteps: 0 });
    expect(result?.info?.['refitted']).toBe(0);
    expect(result?.info?.['meanGap']).toBe(result?.info?.['meanGapFactorAverage']);
  });

  it('rejects negative refitSteps', () => {
    expect(() => snellExact({ snell: SNELL, refitSteps: -1 })).toThrow(
      'refitSteps passed to snellExact() must be an integer ≥ 0 but got -1',
    );
  });
});
