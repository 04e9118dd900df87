import type { Coordinator } from './coordinator';
import type { Socket } from 'socket.io-client';
import { connected, coordinatorOptions, fakeClient, joinedClient, makeStateDir, nextError, rawClient, startCoordinator, type FakeClient } from './coordinator.testing';

describe('coordinator handshake and join', () => {
  let coordinator: Coordinator;
  let cleanup: () => Promise<void>;
  const clients: (FakeClient | Socket)[] = [];

  beforeEach(async () => {
    const dir = await makeStateDir();
    cleanup = dir.cleanup;
    coordinator = await startCoordinator(coordinatorOptions(dir.dir, dir.weightsPath));
  });

  afterEach(async () => {
    clients.splice(0).forEach((c) => c.disconnect());
    await coordinator.close();
    await cleanup();
  });

  const track = <C extends FakeClient | Socket>(client: C) => (clients.push(client), client);

  it('refuses a wrong token', async () => {
    const client = track(fakeClient(coordinator, { token: 'nope' }));
    const error = (await connected(client).catch((e: unknown) => e)) as { data?: { code: string } };
    expect(error.data?.code).toBe('UNAUTHORIZED');
    expect(coordinator.metrics.get('auth_failures_total')).toBe(1);
  });

  it('refuses the admin token as a client token', async () => {
    const client = track(fakeClient(coordinator, { token: 'admin-token' }));
    const error = (await connected(client).catch((e: unknown) => e)) as { data?: { code: string } };
    expect(error.data?.code).toBe('UNAUTHORIZED');
  });

  it('refuses a malformed auth payload', async () => {
    const client = track(fakeClient(coordinator, { token: 5 }));
    const error = (await connected(client).catch((e: unknown) => e)) as { data?: { code: string; message: string } };
    expect(error.data).toEqual({ code: 'MALFORMED', message: 'auth.token must be a token string of 1 to 4096 characters but got 5' });
  });

  it('answers a join with the task and limits', async () => {
    const { client, ack } = await joinedClient(coordinator, 'c-1');
    track(client);
    if (!ack.ok) throw new Error(ack.error.message);
    expect([ack.clientId, ack.task.backbone.url, ack.limits.maxMessageBytes, ack.currentRound]).toEqual([
      'c-1',
      `/backbone/${ack.task.backbone.sha256}/model.safetensors`,
      900_000,
      null,
    ]);
  });

  it('refuses another protocol version and disconnects', async () => {
    const client = track(fakeClient(coordinator));
    await connected(client);
    const gone = new Promise((resolve) => client.once('disconnect', resolve));
    const ack = await client.timeout(3000).emitWithAck('join', { protocolVersion: 2, capabilities: { backend: 'cpu', platform: 'node' } });
    expect(ack).toEqual({ ok: false, error: { code: 'PROTOCOL_VERSION', message: 'join.protocolVersion must be one of 1 but got 2' }, supportedVersions: [1] });
    await gone;
  });

  it('refuses a malformed join', async () => {
    const client = track(rawClient(coordinator));
    await connected(client);
    const ack = await client.timeout(3000).emitWithAck('join', { protocolVersion: 1 });
    expect(ack.error.message).toBe('join.capabilities must be an object but got nothing');
  });

  it('answers a malformed packet with an error and stays up', async () => {
    const { client } = await joinedClient(coordinator);
    track(client);
    const error = nextError(client);
    client.io.engine.write(Buffer.from([0xc1]));
    expect((await error).code).toBe('MALFORMED');
    expect(coordinator.metrics.get('malformed_packets_total')).toBe(1);
    expect(client.connected).toBe(true);
  });

  it('answers an unknown event', async () => {
    const client = track(rawClient(coordinator));
    await connected(client);
    const ack = await client.timeout(3000).emitWithAck('hack', 1);
    expect(ack).toEqual({ ok: false, error: { code: 'UNKNOWN_EVENT', message: 'event "hack" is not part of protocol version 1' } });
  });

  it('refuses an update before join', async () => {
    const client = track(rawClient(coordinator));
    await connected(client);
    const ack = await client.timeout(3000).emitWithAck('update', {});
    expect(ack.error.code).toBe('NOT_JOINED');
  });

  it('survives an update without an ack callback', async () => {
    const client = track(rawClient(coordinator));
    await connected(client);
    await client.timeout(3000).emitWithAck('join', { protocolVersion: 1, capabilities: { backend: 'cpu', platform: 'node' } });
    client.emit('update', { junk: true }, 5);
    const ack = await client.timeout(3000).emitWithAck('update', {});
    expect(ack.error.code).toBe('MALFORMED');
  });
});
