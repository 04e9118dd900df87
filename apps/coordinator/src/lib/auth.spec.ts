import { bearerToken, tokenMatches } from './auth';

describe('tokenMatches', () => {
  it('accepts a listed token', () => {
    expect(tokenMatches('b', ['a', 'b'])).toBe(true);
  });

  it('rejects a prefix of a token', () => {
    expect(tokenMatches('secre', ['secret'])).toBe(false);
  });

  it('rejects everything when no tokens exist', () => {
    expect(tokenMatches('', [])).toBe(false);
  });
});

describe('bearerToken', () => {
  it('reads a bearer header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
  });

  it('refuses other schemes', () => {
    expect(bearerToken('Basic abc')).toBeNull();
  });
});
