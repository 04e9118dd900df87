/** Throws the one-line error every option check in this library uses. */
export function requireOption(ok: boolean, where: string, option: string, constraint: string, value: unknown): void {
  if (!ok) throw new Error(`${option} passed to ${where} must ${constraint} but got ${String(value)}`);
}

export function isPositiveFinite(value: number): boolean {
  return Number.isFinite(value) && value > 0;
}
