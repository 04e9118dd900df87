import type { NamedTensor, TensorMap } from '@fedsnell/tensor-io';

export interface SnellModuleFactors {
  A: NamedTensor;
  B: NamedTensor;
}

const A_SUFFIX = '.snell_A';
const B_SUFFIX = '.snell_B';

export function isFactorName(name: string): boolean {
  return name.endsWith(A_SUFFIX) || name.endsWith(B_SUFFIX);
}

/** Adapted modules of a state by name (`blocks.0.attn.q` → its A and B), in the state's order. */
export function snellModules(where: string, state: TensorMap): Map<string, SnellModuleFactors> {
  const modules = new Map<string, SnellModuleFactors>();
  for (const [name, tensor] of state) {
    if (!name.endsWith(A_SUFFIX)) continue;
    const module = name.slice(0, -A_SUFFIX.length);
    const B = state.get(module + B_SUFFIX);
    if (!B) throw new Error(`${where}: ${name} has no matching ${module}${B_SUFFIX}`);
    modules.set(module, { A: tensor, B });
  }
  for (const name of state.keys()) {
    if (name.endsWith(B_SUFFIX) && !modules.has(name.slice(0, -B_SUFFIX.length))) {
      throw new Error(`${where}: ${name} has no matching ${name.slice(0, -B_SUFFIX.length)}${A_SUFFIX}`);
    }
  }
  return modules;
}
