import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether `candidate` equals one of `tokens`, in time independent of where they differ: both sides
 * are hashed to equal length first, and every token is compared (no early exit).
 */
export function tokenMatches(candidate: string, tokens: readonly string[]): boolean {
  const probe = digest(candidate);
  let found = false;
  for (const token of tokens) found = timingSafeEqual(probe, digest(token)) || found;
  return found;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match ? match[1] : null;
}
