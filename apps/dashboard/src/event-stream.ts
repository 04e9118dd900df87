/** Why a stream stopped for good: the server refused the token. */
export class UnauthorizedError extends Error {}

export interface StreamHandlers {
  onOpen(): void;
  onEvent(event: string, data: string): void;
  /** the stream broke; it is opened again after `retryMs` */
  onDown(reason: string, retryMs: number): void;
  /** the server refused the token; nothing more is tried */
  onUnauthorized(message: string): void;
}

/**
 * Server-sent events over fetch, so the admin token travels in an Authorization header (EventSource
 * cannot send headers and would need it in the URL). Reconnects with capped exponential back-off
 * until `stop()`.
 */
export function openEventStream(url: string, token: string, handlers: StreamHandlers): { stop(): void } {
  const controller = new AbortController();
  let failures = 0;

  async function once(): Promise<void> {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' }, signal: controller.signal, cache: 'no-store' });
    if (res.status === 401) throw new UnauthorizedError(await errorMessage(res));
    if (!res.ok || !res.body) throw new Error(`${url} answered ${res.status}`);
    failures = 0;
    handlers.onOpen();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the server closed the stream');
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (data.length) handlers.onEvent(event, data.join('\n'));
      }
    }
  }

  async function loop(): Promise<void> {
    while (!controller.signal.aborted) {
      try {
        await once();
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof UnauthorizedError) return handlers.onUnauthorized(error.message);
        const retryMs = Math.min(10_000, 500 * 2 ** failures);
        failures++;
        handlers.onDown(error instanceof Error ? error.message : String(error), retryMs);
        await new Promise((r) => setTimeout(r, retryMs));
      }
    }
  }

  void loop();
  return { stop: () => controller.abort() };
}

/** The `{error: {message}}` of a coordinator error answer, or its status line. */
export async function errorMessage(res: Response): Promise<string> {
  try {
    const body: unknown = await res.json();
    if (typeof body === 'object' && body !== null && 'error' in body) {
      const error = (body as { error: { message?: unknown } }).error;
      if (typeof error.message === 'string') return error.message;
    }
  } catch {
    // not JSON: fall through
  }
  return `HTTP ${res.status}`;
}
