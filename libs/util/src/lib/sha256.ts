function ownsPlainBuffer(bytes: Uint8Array): bytes is Uint8Array<ArrayBuffer> {
  // toString rather than instanceof: the buffer may come from another realm (jest, a worker).
  return Object.prototype.toString.call(bytes.buffer) === '[object ArrayBuffer]';
}

/** Lower-case hex SHA-256 of `bytes` through WebCrypto (Node ≥ 20 and browsers). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('sha256Hex() needs WebCrypto (globalThis.crypto.subtle) but this platform has none');
  // WebCrypto refuses views of a SharedArrayBuffer; those are copied.
  const input = ownsPlainBuffer(bytes) ? bytes : bytes.slice();
  const digest = new Uint8Array(await subtle.digest('SHA-256', input));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
