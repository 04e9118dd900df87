import { ClientRegistry } from './client-registry';

const conn = (id: string) => ({ id });

describe('ClientRegistry', () => {
  const registry = (over: { maxConnectionsPerToken?: number; maxDepartedClients?: number } = {}) =>
    new ClientRegistry<{ id: string }>({ maxConnectionsPerToken: 2, maxDepartedClients: 10, ...over });

  it('counts connections per token and refuses one beyond the bound', () => {
    const clients = registry();
    expect([clients.admit('tok', 'a'), clients.admit('tok', 'b'), clients.admit('tok', 'c'), clients.admit('other', 'c')]).toEqual([
      { ok: true }, { ok: true }, { ok: false, held: 2, max: 2 }, { ok: true },
    ]);
  });

  it('does not count a reconnect of a connected id twice, and hands back the connection it replaces', () => {
    const clients = registry({ maxConnectionsPerToken: 1 });
    const first = conn('s1');
    clients.admit('tok', 'a');
    clients.connected('a', first, 10);
    const again = clients.admit('tok', 'a');
    const { replaced } = clients.connected('a', conn('s2'), 20);
    expect([again, replaced, clients.admit('tok', 'b').ok]).toEqual([{ ok: true }, first, false]);
  });

  it('keeps a record across reconnects, reset to connected and not yet joined nor ready', () => {
    const clients = registry();
    const { record } = clients.connected('a', conn('s1'), 10);
    Object.assign(record, { joined: true, ready: true, accepted: 3 });
    const again = clients.connected('a', conn('s2'), 20).record;
    expect([again === record, again.connected, again.joined, again.ready, again.accepted, again.lastSeenAt]).toEqual([true, true, false, false, 3, 20]);
  });

  it('offers only joined, connected, ready clients for sampling', () => {
    const clients = registry();
    const ready = clients.connected('a', conn('s1'), 0).record;
    const joinedOnly = clients.connected('b', conn('s2'), 0).record;
    clients.connected('c', conn('s3'), 0);
    Object.assign(ready, { joined: true, ready: true });
    Object.assign(joinedOnly, { joined: true });
    expect([clients.sampleable(), clients.counts(), clients.isConnected('c'), clients.isConnected('z')]).toEqual([['a'], { connected: 3, joined: 2 }, true, false]);
  });

  it('marks a client gone only when its current connection goes, and gives the token its slot back', () => {
    const clients = registry({ maxConnectionsPerToken: 1 });
    const old = conn('s1');
    const current = conn('s2');
    clients.admit('tok', 'a');
    const { record } = clients.connected('a', old, 0);
    record.accepted = 1;
    clients.admit('tok', 'a');
    clients.connected('a', current, 5);
    const oldGone = clients.disconnected(record, 'tok', old, 6);
    const connectedAfterOld = record.connected;
    const currentGone = clients.disconnected(record, 'tok', current, 7);
    expect([oldGone, connectedAfterOld, currentGone, record.connected, record.lastSeenAt, clients.connectionOf('a'), clients.admit('tok', 'b')]).toEqual([
      false, true, true, false, 7, undefined, { ok: true },
    ]);
  });

  it('forgets a departed client that never joined nor sent anything at once, and others beyond the bound oldest first', () => {
    const clients = registry({ maxDepartedClients: 1 });
    const leave = (id: string, at: number, joined: boolean) => {
      const c = conn(id);
      const { record } = clients.connected(id, c, at);
      if (joined) record.joinedAt = at;
      clients.disconnected(record, 'tok', c, at);
    };
    leave('never', 1, false);
    leave('old', 2, true);
    leave('new', 3, true);
    expect(clients.all().map((c) => c.clientId)).toEqual(['new']);
  });
});
