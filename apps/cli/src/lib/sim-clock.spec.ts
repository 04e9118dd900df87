import { SimClock } from './sim-clock';

describe('SimClock', () => {
  it('fires timers only when moved to them, earliest first, and jumps time there', async () => {
    const clock = new SimClock();
    const fired: string[] = [];
    const t0 = clock.now();
    clock.setTimeout(() => fired.push('deadline'), 600_000);
    clock.setTimeout(() => fired.push('grace'), 10_000);
    await new Promise((r) => setTimeout(r, 20));

    expect(fired).toEqual([]);
    expect(clock.fireNext(t0 + 600_001)).toBe(true);
    expect(fired).toEqual(['grace']);
    expect(clock.now()).toBeGreaterThanOrEqual(t0 + 10_000);
    expect(clock.now()).toBeLessThan(t0 + 600_000);
  });

  it('leaves cleared timers and those beyond the limit alone', () => {
    const clock = new SimClock();
    const fired: string[] = [];
    const t0 = clock.now();
    const grace = clock.setTimeout(() => fired.push('grace'), 10_000);
    clock.setTimeout(() => fired.push('deadline'), 600_000);
    clock.clearTimeout(grace);

    expect(clock.fireNext(t0 + 300_000)).toBe(false);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(1);
  });

  it('runs a timer of 0 ms on the next turn of the event loop', async () => {
    const clock = new SimClock();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('now'), 0);

    await new Promise((r) => setImmediate(r));
    expect(fired).toEqual(['now']);
  });
});
