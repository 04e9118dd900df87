import { fedAvg } from './fedavg';
import { tensors } from './fixtures.testing';
import { configureRound, sampleClients, sampleRound } from './sampling';
import type { RoundConfig, RoundConfigContext, Strategy } from './types';

const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length];
};

describe('sampleClients', () => {
  it('takes the fraction, rounded up', () => {
    expect(sampleClients(['a', 'b', 'c', 'd'], seq(0), { fraction: 0.5, minClients: 1, maxClients: 10 })).toEqual(['a', 'b']);
  });

  it('raises to minClients', () => {
    expect(sampleClients(['a', 'b', 'c'], seq(0), { fraction: 0.1, minClients: 2, maxClients: 10 })).toHaveLength(2);
  });

  it('caps at maxClients', () => {
    expect(sampleClients(['a', 'b', 'c'], seq(0), { fraction: 1, minClients: 1, maxClients: 2 })).toHaveLength(2);
  });

  it('follows the rng, not the input order', () => {
    // rng 0.99 first swaps slot 0 with the last candidate
    const options = { fraction: 0.3, minClients: 1, maxClients: 10 };
    expect([sampleClients(['c', 'a', 'b'], seq(0.99), options), sampleClients(['b', 'c', 'a'], seq(0.99), options)]).toEqual([['c'], ['c']]);
  });

  it('never exceeds the candidates', () => {
    expect(sampleClients(['a'], seq(0.5), { fraction: 1, minClients: 3, maxClients: 5 })).toEqual(['a']);
  });
});

describe('configureRound', () => {
  const ctx = (candidates: string[], rng = seq(0)): RoundConfigContext => ({
    round: 2,
    global: tensors({ w: [0] }),
    candidates,
    sampling: { fraction: 0.5, minClients: 1, maxClients: 10 },
    rng,
  });
  const configuring = (configure: (c: RoundConfigContext) => RoundConfig): Strategy => ({ ...fedAvg(), name: 'custom', configure });

  it('samples with the round generator when the strategy has no configure step', () => {
    expect(configureRound(fedAvg(), ctx(['d', 'c', 'b', 'a'], seq(0.99, 0)))).toEqual({ clients: ['d', 'b'] });
    expect(sampleRound(ctx(['d', 'c', 'b', 'a'], seq(0.99, 0)))).toEqual({ clients: ['d', 'b'] });
  });

  it("takes the strategy's clients and per-round trainer settings", () => {
    const strategy = configuring((c) => ({ clients: [...c.candidates].reverse(), overrides: { lr: 0.5 ** c.round, epochs: 2 } }));

    expect(configureRound(strategy, ctx(['a', 'b']))).toEqual({ clients: ['b', 'a'], overrides: { lr: 0.25, epochs: 2 } });
  });

  it('drops an empty overrides object', () => {
    expect(configureRound(configuring(() => ({ clients: ['a'], overrides: {} })), ctx(['a']))).toEqual({ clients: ['a'] });
  });

  it('refuses a client that is not a candidate, a client picked twice, or no client at all', () => {
    expect(() => configureRound(configuring(() => ({ clients: ['z'] })), ctx(['a']))).toThrow("custom.configure() must pick clients among the candidates but picked 'z'");
    expect(() => configureRound(configuring(() => ({ clients: ['a', 'a'] })), ctx(['a']))).toThrow("custom.configure() must pick each client at most once but picked 'a' twice");
    expect(() => configureRound(configuring(() => ({ clients: [] })), ctx(['a']))).toThrow('custom.configure() must pick at least one client of 1 but picked none');
  });

  it('refuses a non-finite override', () => {
    expect(() => configureRound(configuring(() => ({ clients: ['a'], overrides: { lr: Number.NaN } })), ctx(['a']))).toThrow(
      'custom.configure() must give finite trainer overrides but gave lr=NaN',
    );
  });
});
