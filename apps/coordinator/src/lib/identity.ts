import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode, idSchema, type ProtocolError } from '@fedsnell/protocol';
import { writeFileAtomic } from '@fedsnell/tensor-io/node';
import { tokenMatches } from './auth';

/** Who a connection is: the hash of the token it authenticated with (tokens themselves are never stored). */
export type Principal = string;

export type IdentityResult = { ok: true; principal: Principal; clientId: string } | { ok: false; error: ProtocolError };

export interface IdentityOptions {
  /** Tokens any number of clients share; a client id is bound to the first of them that claimed it. */
  sharedTokens: readonly string[];
  /** Per-device tokens: token → the one client id it may use. */
  clientTokens?: ReadonlyMap<string, string>;
  /** Where bindings are kept across restarts (`<stateDir>/identities.json`); absent: memory only. */
  stateDir?: string;
  /** Most client ids one shared token may hold; the oldest binding not in use is forgotten beyond it. */
  maxIdsPerToken?: number;
}

const FILE = 'identities.json';
const DEFAULT_MAX_IDS_PER_TOKEN = 4096;

export const principalOf = (token: string): Principal => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Binds client ids to the token that first claimed them, so that a holder of another token can
 * neither take over, disconnect nor speak as that id. With per-device tokens the token names its id.
 * A binding becomes durable once its client joins; one that never joined is forgotten when its
 * connection goes.
 */
export class IdentityRegistry {
  /** clientId → principal and whether the binding is durable */
  private readonly bindings = new Map<string, { principal: Principal; durable: boolean; at: number }>();
  private readonly perClient: { principal: Principal; clientId: string; token: string }[];
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly o: IdentityOptions) {
    this.perClient = [...(o.clientTokens ?? new Map<string, string>())].map(([token, clientId]) => ({ token, clientId, principal: principalOf(token) }));
  }

  async load(): Promise<void> {
    if (!this.o.stateDir) return;
    const text = await readFile(join(this.o.stateDir, FILE), 'utf8').catch(() => null);
    if (text === null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${join(this.o.stateDir, FILE)} must be JSON written by the coordinator but does not parse; move it away to forget client identities`);
    }
    const entries = typeof parsed === 'object' && parsed !== null && 'clients' in parsed ? (parsed as { clients: unknown }).clients : null;
    if (typeof entries !== 'object' || entries === null) throw new Error(`${join(this.o.stateDir, FILE)} must hold {"clients": {id: principal}}`);
    for (const [clientId, principal] of Object.entries(entries)) {
      if (typeof principal === 'string' && /^[0-9a-f]{64}$/.test(principal) && idSchema.safeParse(clientId).success) {
        this.bindings.set(clientId, { principal, durable: true, at: 0 });
      }
    }
  }

  /** Whether `token` is a client token at all. */
  knows(token: string): boolean {
    return tokenMatches(token, this.o.sharedTokens) || this.perClient.some((c) => tokenMatches(token, [c.token]));
  }

  /** The principal and client id of a handshake, or why it is refused (UNAUTHORIZED). */
  authenticate(token: string, requestedId: string | undefined, now: number): IdentityResult {
    const device = this.perClient.find((c) => tokenMatches(token, [c.token]));
    if (device) {
      if (requestedId !== undefined && requestedId !== device.clientId) {
        return refuse(`auth.clientId must be the id of this token (${device.clientId}) but got ${requestedId}`);
      }
      return { ok: true, principal: device.principal, clientId: device.clientId };
    }
    if (!tokenMatches(token, this.o.sharedTokens)) return refuse('auth.token is not a valid client token');
    const principal = principalOf(token);
    if (requestedId !== undefined) {
      if (this.perClient.some((c) => c.clientId === requestedId)) return refuse(`client id ${requestedId} belongs to a per-device token`);
      const bound = this.bindings.get(requestedId);
      if (bound && bound.principal !== principal) return refuse(`client id ${requestedId} is bound to another token`);
      if (!bound) this.bind(requestedId, principal, now);
      return { ok: true, principal, clientId: requestedId };
    }
    let clientId: string;
    do clientId = `c-${randomBytes(6).toString('hex')}`;
    while (this.bindings.has(clientId));
    this.bind(clientId, principal, now);
    return { ok: true, principal, clientId };
  }

  /** The client joined: keep its binding across restarts. */
  confirm(clientId: string): void {
    const binding = this.bindings.get(clientId);
    if (!binding || binding.durable) return;
    binding.durable = true;
    this.save();
  }

  /** Its connection went without a join: a binding nobody used is forgotten. */
  release(clientId: string): void {
    const binding = this.bindings.get(clientId);
    if (binding && !binding.durable) this.bindings.delete(clientId);
  }

  get size(): number {
    return this.bindings.size;
  }

  /** Resolves once every binding made so far is on disk. */
  flush(): Promise<void> {
    return this.saving;
  }

  private bind(clientId: string, principal: Principal, now: number): void {
    const max = this.o.maxIdsPerToken ?? DEFAULT_MAX_IDS_PER_TOKEN;
    const own = [...this.bindings].filter(([, b]) => b.principal === principal);
    if (own.length >= max) {
      own.sort((a, b) => a[1].at - b[1].at);
      this.bindings.delete(own[0][0]);
    }
    this.bindings.set(clientId, { principal, durable: false, at: now });
  }

  private save(): void {
    const dir = this.o.stateDir;
    if (!dir) return;
    const clients: Record<string, string> = {};
    for (const [id, b] of this.bindings) if (b.durable) clients[id] = b.principal;
    const text = `${JSON.stringify({ clients })}\n`;
    // writes are serialized: the last one always holds every durable binding
    this.saving = this.saving.then(() => writeFileAtomic(join(dir, FILE), new TextEncoder().encode(text))).catch(() => undefined);
  }
}

function refuse(message: string): IdentityResult {
  return { ok: false, error: { code: ErrorCode.UNAUTHORIZED, message } };
}

/**
 * A tokens file: one `token clientId` pair per line (blank lines and `#` comments ignored), for
 * deployments that issue one token per device. Throws naming the line of the first problem.
 */
export async function loadTokensFile(path: string): Promise<Map<string, string>> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new Error(`--tokens-file ${path} cannot be read: ${error.code ?? error.message}`);
  });
  return parseTokensFile(text, path);
}

export function parseTokensFile(text: string, source = 'tokens file'): Map<string, string> {
  const map = new Map<string, string>();
  const ids = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    const where = `${source} line ${i + 1}`;
    if (parts.length !== 2) throw new Error(`${where} must be "<token> <clientId>" but has ${parts.length} field${parts.length === 1 ? '' : 's'}`);
    const [token, clientId] = parts;
    if (!idSchema.safeParse(clientId).success) throw new Error(`${where}: client id must be 1 to 128 characters from [A-Za-z0-9_.:-]`);
    if (map.has(token)) throw new Error(`${where} repeats a token of an earlier line`);
    if (ids.has(clientId)) throw new Error(`${where} repeats client id ${clientId}`);
    map.set(token, clientId);
    ids.add(clientId);
  });
  return map;
}
