import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openEventStream } from './event-stream';

let server: Server;
let url: string;
let connections = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.headers.authorization !== 'Bearer good') {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'bad token' } }));
    }
    connections++;
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    // an event split across writes, a comment line, and a second event; then the stream breaks once
    res.write('event: snapshot\ndata: {"n":');
    setTimeout(() => res.write(`${connections}}\n\n: ping\n\nevent: snapshot\ndata: {"n":${connections + 10}}\n\n`), 20);
    if (connections === 1) setTimeout(() => res.destroy(), 60);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/events`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

describe('openEventStream', () => {
  it('parses events split across chunks, skips comments, and reconnects after the stream breaks', async () => {
    const seen: string[] = [];
    const downs: string[] = [];
    const stream = openEventStream(url, 'good', {
      onOpen: () => undefined,
      onEvent: (event, data) => seen.push(`${event}:${data}`),
      onDown: (reason) => downs.push(reason),
      onUnauthorized: () => seen.push('unauthorized'),
    });
    const started = Date.now();
    while (seen.length < 3 && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 20));
    stream.stop();
    expect(seen.slice(0, 3)).toEqual(['snapshot:{"n":1}', 'snapshot:{"n":11}', 'snapshot:{"n":2}']);
    expect(downs.length).toBe(1);
  });

  it('stops for good on 401 and passes the server message on', async () => {
    const message = await new Promise<string>((resolve) => {
      openEventStream(url, 'bad', { onOpen: () => undefined, onEvent: () => undefined, onDown: () => undefined, onUnauthorized: resolve });
    });
    expect(message).toBe('bad token');
  });
});
