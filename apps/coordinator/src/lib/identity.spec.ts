import { IdentityRegistry, parseTokensFile, principalOf } from './identity';

describe('IdentityRegistry', () => {
  const registry = () => new IdentityRegistry({ sharedTokens: ['shared-a', 'shared-b'], clientTokens: new Map([['dev-token', 'dev-1']]), maxIdsPerToken: 2 });

  it('binds an id to the first token that claims it', () => {
    const r = registry();
    expect(r.authenticate('shared-a', 'c-1', 0)).toEqual({ ok: true, principal: principalOf('shared-a'), clientId: 'c-1' });
    expect(r.authenticate('shared-b', 'c-1', 1)).toEqual({ ok: false, error: { code: 'UNAUTHORIZED', message: 'client id c-1 is bound to another token' } });
    expect(r.authenticate('shared-a', 'c-1', 2).ok).toBe(true);
  });

  it('forgets a binding whose connection never joined, and keeps a confirmed one', () => {
    const r = registry();
    r.authenticate('shared-a', 'gone', 0);
    r.release('gone');
    expect(r.authenticate('shared-b', 'gone', 1).ok).toBe(true);
    r.confirm('gone');
    r.release('gone');
    expect(r.authenticate('shared-a', 'gone', 2).ok).toBe(false);
  });

  it('holds at most maxIdsPerToken ids per shared token, forgetting the oldest', () => {
    const r = registry();
    for (const [i, id] of ['x', 'y', 'z'].entries()) r.authenticate('shared-a', id, i);
    expect(r.size).toBe(2);
    expect(r.authenticate('shared-b', 'x', 9).ok).toBe(true);
  });

  it('gives a per-device token its id and refuses others', () => {
    const r = registry();
    expect(r.authenticate('dev-token', undefined, 0)).toEqual({ ok: true, principal: principalOf('dev-token'), clientId: 'dev-1' });
    expect(r.authenticate('shared-a', 'dev-1', 0).ok).toBe(false);
    expect(r.authenticate('nope', undefined, 0)).toEqual({ ok: false, error: { code: 'UNAUTHORIZED', message: 'auth.token is not a valid client token' } });
  });
});

describe('parseTokensFile', () => {
  it('reads token and id pairs, skipping comments and blank lines', () => {
    expect([...parseTokensFile('# devices\n\ntok-1 phone-1\n  tok-2   phone-2  \n')]).toEqual([
      ['tok-1', 'phone-1'],
      ['tok-2', 'phone-2'],
    ]);
  });

  it('names the line of the first problem', () => {
    expect(() => parseTokensFile('tok-1 a\ntok-2\n', 'tokens.txt')).toThrow('tokens.txt line 2 must be "<token> <clientId>" but has 1 field');
    expect(() => parseTokensFile('tok-1 a\ntok-2 a\n', 'tokens.txt')).toThrow('tokens.txt line 2 repeats client id a');
    expect(() => parseTokensFile('tok-1 a/b\n', 'tokens.txt')).toThrow('tokens.txt line 1: client id must be 1 to 128 characters from [A-Za-z0-9_.:-]');
  });
});
