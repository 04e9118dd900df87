import { STRATEGY_NAMES } from './create-strategy';
import { strategyFileSchema } from './strategy-file';

describe('strategyFileSchema', () => {
  it('has one entry per strategy name', () => {
    const accepted = STRATEGY_NAMES.filter((name) => {
      const options = name === 'fedprox' ? { proximalMu: 0.1 } : name === 'trimmed-mean' ? { beta: 0.1 } : {};
      return strategyFileSchema.safeParse({ name, ...options }).success;
    });
    expect(accepted).toEqual([...STRATEGY_NAMES]);
  });

  it("keeps each strategy's own options", () => {
    expect(strategyFileSchema.parse({ name: 'fedadam', serverLr: 0.01, clipping: { maxNorm: 5 } })).toEqual({ name: 'fedadam', serverLr: 0.01, clipping: { maxNorm: 5 } });
  });

  it("rejects an option of another strategy (a typo must not fall back to a default)", () => {
    expect(strategyFileSchema.safeParse({ name: 'fedavg', proximalMu: 0.1 }).success).toBe(false);
  });

  it('requires the options a strategy cannot default', () => {
    expect(strategyFileSchema.safeParse({ name: 'fedprox' }).success).toBe(false);
    expect(strategyFileSchema.safeParse({ name: 'trimmed-mean' }).success).toBe(false);
  });

  it('rejects an unknown name', () => {
    expect(strategyFileSchema.safeParse({ name: 'krum' }).success).toBe(false);
  });
});
