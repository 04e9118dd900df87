import { sampleClients } from './sampling';

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
