import { factorNames, parseFactorName } from '@fedsnell/snell';
import type { NamedTensor, TensorMap } from '@fedsnell/tensor-io';

export interface SnellModuleFactors {
  A: NamedTensor;
  B: NamedTensor;
}

/** Adapted modules of a state by name (`blocks.0.attn.q` → its A and B), in the state's order. */
export function snellModules(where: string, state: TensorMap): Map<string, SnellModuleFactors> {
  const modules = new Map<string, SnellModuleFactors>();
  for (const [name, tensor] of state) {
    const parsed = parseFactorName(name);
    if (parsed?.factor !== 'A') continue;
    const nameB = factorNames(parsed.module)[1];
    const B = state.get(nameB);
    if (!B) throw new Error(`${where}: ${name} has no matching ${nameB}`);
    modules.set(parsed.module, { A: tensor, B });
  }
  for (const name of state.keys()) {
    const parsed = parseFactorName(name);
    if (parsed?.factor === 'B' && !modules.has(parsed.module)) {
      throw new Error(`${where}: ${name} has no matching ${factorNames(parsed.module)[0]}`);
    }
  }
  return modules;
}
