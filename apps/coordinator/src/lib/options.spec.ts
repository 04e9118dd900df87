import { DEFAULT_ROUNDS, resolveRounds } from './options';

describe('resolveRounds', () => {
  it('fills defaults', () => {
    expect(resolveRounds({ totalRounds: 3 })).toEqual({ ...DEFAULT_ROUNDS, totalRounds: 3 });
  });

  it('refuses a zero fraction', () => {
    expect(() => resolveRounds({ fraction: 0 })).toThrow('rounds.fraction passed to createCoordinator() must be in (0, 1] but got 0');
  });

  it('refuses maxClients below minClients', () => {
    expect(() => resolveRounds({ minClients: 3, maxClients: 2 })).toThrow('rounds.maxClients passed to createCoordinator() must be at least minClients (3) but got 2');
  });

  it('refuses a negative grace', () => {
    expect(() => resolveRounds({ graceMs: -1 })).toThrow('rounds.graceMs passed to createCoordinator() must be a non-negative number of ms but got -1');
  });
});
