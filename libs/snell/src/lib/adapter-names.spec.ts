import { adaptedModules, DENSE_TRAINABLES, factorNames, isDenseTrainable, isFactorName, parseFactorName } from './adapter-names';

describe('adapter names', () => {
  it('names both factors of a module', () => {
    expect(factorNames('blocks.0.attn.q')).toEqual(['blocks.0.attn.q.snell_A', 'blocks.0.attn.q.snell_B']);
  });

  it('parses a factor name back into module and factor', () => {
    expect(parseFactorName('blocks.3.mlp.fc1.snell_B')).toEqual({ module: 'blocks.3.mlp.fc1', factor: 'B' });
    expect(parseFactorName('head.weight')).toBeUndefined();
    expect(parseFactorName('.snell_A')).toBeUndefined();
  });

  it('tells factors from dense trainables', () => {
    expect(['blocks.0.attn.v.snell_A', 'head.bias', 'cls_token'].map(isFactorName)).toEqual([true, false, false]);
    expect(DENSE_TRAINABLES.every(isDenseTrainable)).toBe(true);
    expect(isDenseTrainable('blocks.0.attn.v.snell_A')).toBe(false);
  });

  it('lists the adapted modules in order, once each', () => {
    const names = ['blocks.1.attn.q.snell_A', 'blocks.1.attn.q.snell_B', 'head.weight', 'blocks.0.mlp.fc2.snell_A', 'blocks.0.mlp.fc2.snell_B'];
    expect(adaptedModules(names)).toEqual(['blocks.1.attn.q', 'blocks.0.mlp.fc2']);
  });
});
