import { DEFAULT_LIMITS, resolveLimits } from './limits';

describe('limits', () => {
  it('keeps one message under socket.io default maxHttpBufferSize', () => {
    expect(DEFAULT_LIMITS.maxMessageBytes).toBeLessThan(1e6);
  });

  it('applies overrides', () => {
    expect(resolveLimits({ maxTensors: 10 }).maxTensors).toBe(10);
  });

  it('rejects a non-positive limit', () => {
    expect(() => resolveLimits({ chunkTimeoutMs: 0 })).toThrow('limits.chunkTimeoutMs passed to resolveLimits() must be a positive integer but got 0');
  });

  it('rejects chunks that would not fit in one message', () => {
    expect(() => resolveLimits({ chunkBytes: 900_000 })).toThrow('limits.chunkBytes passed to resolveLimits() must be at most');
  });
});
