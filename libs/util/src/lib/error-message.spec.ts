import { errorMessage } from './error-message';

describe('errorMessage', () => {
  it('reads an Error its message', () => {
    expect(errorMessage(new RangeError('bad rank'))).toBe('bad rank');
  });

  it('gives the string form of anything else thrown', () => {
    expect(errorMessage('timeout')).toBe('timeout');
    expect(errorMessage(undefined)).toBe('undefined');
    expect(errorMessage(42)).toBe('42');
  });
});
