import type { Progress } from '@fedsnell/protocol';
import type { Principal } from './identity';

export interface ClientRecord {
  clientId: string;
  connected: boolean;
  joined: boolean;
  platform: string | null;
  backend: string | null;
  joinedAt: number | null;
  lastSeenAt: number;
  accepted: number;
  rejected: number;
  /** rounds it reported it could not train (round:failed) */
  failedRounds: number;
  lastProgress: Progress | null;
  /** backbone verified and data present for the current task (ready event or join field) */
  ready: boolean;
  /** usable local examples it reported when it became ready */
  examples: number | null;
}

export interface ClientRegistryOptions {
  /** Connections one token (principal) may hold at once. */
  maxConnectionsPerToken: number;
  /** Records of departed clients kept for /api/clients; the oldest beyond this are forgotten. */
  maxDepartedClients: number;
}

/**
 * Who is connected, as whom, and what the coordinator knows of each client: one connection per
 * client id (a reconnect replaces the older one), connections counted per token, records of
 * departed clients kept up to a bound. No sockets are touched here: a connection is anything with
 * an id, so the registry is tested without a server.
 */
export class ClientRegistry<Connection extends { readonly id: string }> {
  private readonly records = new Map<string, ClientRecord>();
  private readonly connections = new Map<string, Connection>();
  private readonly held = new Map<Principal, number>();

  constructor(private readonly o: ClientRegistryOptions) {}

  /**
   * Counts a new connection of `clientId` against its token, or refuses it with the number of
   * connections the token already holds. A reconnect of a connected id replaces its older
   * connection, so it does not count twice.
   */
  admit(principal: Principal, clientId: string): { ok: true } | { ok: false; held: number; max: number } {
    const held = this.held.get(principal) ?? 0;
    const replacing = this.connections.has(clientId) ? 1 : 0;
    if (held - replacing >= this.o.maxConnectionsPerToken) return { ok: false, held, max: this.o.maxConnectionsPerToken };
    this.held.set(principal, held + 1);
    return { ok: true };
  }

  /** An admitted connection is up: its record (new or kept) is connected, not yet joined nor ready. */
  connected(clientId: string, connection: Connection, now: number): { record: ClientRecord; replaced: Connection | null } {
    const previous = this.connections.get(clientId);
    this.connections.set(clientId, connection);
    const record = this.records.get(clientId) ?? newRecord(clientId);
    Object.assign(record, { connected: true, joined: false, ready: false, lastSeenAt: now });
    this.records.set(clientId, record);
    return { record, replaced: previous && previous.id !== connection.id ? previous : null };
  }

  /**
   * A connection went: its token holds one fewer, and if it was the client's current connection the
   * record is marked gone (returns true). Departed records beyond the bound are forgotten.
   */
  disconnected(record: ClientRecord, principal: Principal, connection: Connection, now: number): boolean {
    const held = (this.held.get(principal) ?? 1) - 1;
    if (held > 0) this.held.set(principal, held);
    else this.held.delete(principal);
    const current = this.connections.get(record.clientId) === connection;
    if (current) {
      this.connections.delete(record.clientId);
      Object.assign(record, { connected: false, joined: false, ready: false });
    }
    record.lastSeenAt = now;
    this.forgetDeparted();
    return current;
  }

  connectionOf(clientId: string): Connection | undefined {
    return this.connections.get(clientId);
  }

  isConnected(clientId: string): boolean {
    return this.records.get(clientId)?.connected === true;
  }

  /** Joined, connected and ready: the clients a round may ask. */
  sampleable(): string[] {
    return [...this.records.values()].filter((c) => c.joined && c.connected && c.ready).map((c) => c.clientId);
  }

  all(): ClientRecord[] {
    return [...this.records.values()];
  }

  counts(): { connected: number; joined: number } {
    const all = this.all();
    return { connected: all.filter((c) => c.connected).length, joined: all.filter((c) => c.joined).length };
  }

  /** Records of departed clients: never-joined ones go at once, the rest beyond maxDepartedClients oldest first. */
  private forgetDeparted(): void {
    const departed = this.all().filter((c) => !c.connected);
    for (const c of departed) if (c.joinedAt === null && c.accepted === 0 && c.rejected === 0) this.records.delete(c.clientId);
    const kept = departed.filter((c) => this.records.has(c.clientId));
    if (kept.length <= this.o.maxDepartedClients) return;
    kept.sort((a, b) => a.lastSeenAt - b.lastSeenAt);
    for (const c of kept.slice(0, kept.length - this.o.maxDepartedClients)) this.records.delete(c.clientId);
  }
}

/** A fresh record of a client that just connected. */
export function newRecord(clientId: string): ClientRecord {
  return {
    clientId,
    connected: true,
    joined: false,
    platform: null,
    backend: null,
    joinedAt: null,
    lastSeenAt: 0,
    accepted: 0,
    rejected: 0,
    failedRounds: 0,
    lastProgress: null,
    ready: false,
    examples: null,
  };
}
