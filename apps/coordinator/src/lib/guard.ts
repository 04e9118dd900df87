import { ErrorCode, type ClientToServerEvents } from '@fedsnell/protocol';
import type { ClientSocket } from './socket-types';
import { errorMessage } from '@fedsnell/util';

/**
 * Registers a handler that cannot take the process down: payloads stay `unknown` until parsed, a
 * missing or non-function ack becomes a no-op, and a throw or rejection is answered INTERNAL.
 */
export function guard(socket: ClientSocket, event: keyof ClientToServerEvents, handler: (payload: unknown, ack: (answer: unknown) => void) => unknown): void {
  // payloads are unknown until parsed, and a peer may omit the ack callback or send a non-function
  const listener = (payload: unknown, maybeAck?: unknown) => {
    const ack = typeof maybeAck === 'function' ? (answer: unknown) => maybeAck(answer) : () => undefined;
    const internal = (error: unknown) => {
      ack({ ok: false, error: { code: ErrorCode.INTERNAL, message: 'the coordinator failed to handle this message' } });
      socket.emit('error', { code: ErrorCode.INTERNAL, message: `handling ${event} failed: ${errorMessage(error)}` });
    };
    try {
      const result = handler(payload, ack);
      if (result instanceof Promise) result.catch(internal);
    } catch (error) {
      internal(error);
    }
  };
  socket.on(event, listener);
}
