/**
 * The names of an adapter's tensors, in one place (as PEFT's `adapter_layer_names`): each adapted
 * module `<module>` trains `<module>.snell_A` [H, in, r/H] and `<module>.snell_B` [H, out, r/H];
 * the dense trainables are the classifier head and the class token.
 */
export const FACTOR_SUFFIXES = { A: '.snell_A', B: '.snell_B' } as const;

/** Dense (non-factor) tensors an adapter may carry: the new head and class token. */
export const DENSE_TRAINABLES: readonly string[] = ['head.weight', 'head.bias', 'cls_token'];

/** The A and B factor names of a module. */
export const factorNames = (module: string): [string, string] => [module + FACTOR_SUFFIXES.A, module + FACTOR_SUFFIXES.B];

/** The module and factor a tensor name is, or undefined for any other name. */
export function parseFactorName(name: string): { module: string; factor: 'A' | 'B' } | undefined {
  for (const factor of ['A', 'B'] as const) {
    const suffix = FACTOR_SUFFIXES[factor];
    if (name.endsWith(suffix) && name.length > suffix.length) return { module: name.slice(0, -suffix.length), factor };
  }
  return undefined;
}

/** True for `<module>.snell_A` and `<module>.snell_B`. */
export const isFactorName = (name: string): boolean => parseFactorName(name) !== undefined;

/** True for the head and class token. */
export const isDenseTrainable = (name: string): boolean => DENSE_TRAINABLES.includes(name);

/** The modules that have an A factor among `names`, in their order. */
export function adaptedModules(names: Iterable<string>): string[] {
  const out: string[] = [];
  for (const name of names) {
    const parsed = parseFactorName(name);
    if (parsed?.factor === 'A') out.push(parsed.module);
  }
  return out;
}
