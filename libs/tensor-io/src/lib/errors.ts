/**
 * A malformed or unsupported safetensors file, or tensors that cannot be written as one.
 * `detail` is the message without the function prefix, so a caller that knows more (a file path)
 * can re-prefix it without string surgery.
 */
export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
  constructor(
    readonly where: string,
    readonly detail: string,
  ) {
    super(`${where}: ${detail}`);
  }
}
