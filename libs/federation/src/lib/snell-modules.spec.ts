import { tensors } from './fixtures.testing';
import { snellModules } from './snell-modules';

describe('snellModules', () => {
  it('pairs A and B by module name and skips dense tensors', () => {
    const state = tensors({ 'm.snell_A': [1], 'head.bias': [2], 'm.snell_B': [3] });

    const modules = snellModules('test', state);

    expect([...modules.keys()]).toEqual(['m']);
    expect(modules.get('m')?.B.data[0]).toBe(3);
  });

  it('rejects an A without its B', () => {
    expect(() => snellModules('test', tensors({ 'm.snell_A': [1] }))).toThrow('test: m.snell_A has no matching m.snell_B');
  });

  it('rejects a B without its A', () => {
    expect(() => snellModules('test', tensors({ 'm.snell_B': [1] }))).toThrow('test: m.snell_B has no matching m.snell_A');
  });
});
