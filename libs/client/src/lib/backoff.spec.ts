import { reconnectDelay, resolveReconnect } from './backoff';

describe('reconnectDelay', () => {
  const options = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0 };

  it('grows by the factor', () => {
    expect([0, 1, 2, 3].map((a) => reconnectDelay(a, options))).toEqual([100, 200, 400, 800]);
  });

  it('stops at maxMs', () => {
    expect(reconnectDelay(10, options)).toBe(1000);
  });

  it('removes up to the jitter share at random', () => {
    const jittered = { ...options, jitter: 0.5 };
    expect([reconnectDelay(1, jittered, () => 0), reconnectDelay(1, jittered, () => 0.5)]).toEqual([200, 150]);
  });
});

describe('resolveReconnect', () => {
  it('fills defaults', () => {
    expect(resolveReconnect({ initialMs: 10 })).toEqual({ initialMs: 10, maxMs: 30_000, factor: 2, jitter: 0.5 });
  });

  it('rejects a factor below 1', () => {
    expect(() => resolveReconnect({ factor: 0.5 })).toThrow('reconnect.factor passed to createClient() must be a number ≥ 1 but got 0.5');
  });

  it('rejects maxMs below initialMs', () => {
    expect(() => resolveReconnect({ initialMs: 500, maxMs: 100 })).toThrow('reconnect.maxMs');
  });
});
