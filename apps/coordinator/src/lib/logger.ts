import type { LogFields, Logger } from './options';

/** Longest string field a line caused by a peer carries; the rest is cut and counted. */
export const MAX_LOG_FIELD_CHARS = 256;

/** Longest string field of any line (an operator's effective configuration fits). */
const MAX_LINE_FIELD_CHARS = 16_384;

/**
 * What a peer can put in a log, made safe for one line: control characters (C0, DEL, C1, line and
 * paragraph separators) escaped as \u00XX, and the text cut at `max` characters.
 */
export function safeText(value: string, max = MAX_LOG_FIELD_CHARS): string {
  const cut = value.length > max ? value.slice(0, max) : value;
  const escaped = cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return value.length > max ? `${escaped}…(+${value.length - max} chars)` : escaped;
}

function safeFields(fields: LogFields, max = MAX_LOG_FIELD_CHARS): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) out[safeText(key, 64)] = typeof value === 'string' ? safeText(value, max) : value;
  return out;
}

/**
 * One line per event on stderr: `2026-11-28T09:00:00.000Z warn message key=value …`, or one JSON
 * object per line with `json: true` (for log collectors). Every string is escaped (safeText) so no
 * field can break a line; what peers cause goes through peerLogger, which also cuts and rate-limits.
 */
export function streamLogger(options: { json?: boolean; write?: (line: string) => void } = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: string, rawMessage: string, rawFields: LogFields = {}) => {
    const time = new Date().toISOString();
    const message = safeText(rawMessage, MAX_LINE_FIELD_CHARS);
    const fields = safeFields(rawFields, MAX_LINE_FIELD_CHARS);
    if (options.json) {
      write(JSON.stringify({ time, level, message, ...fields }));
      return;
    }
    const rest = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s"]/.test(v) ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    write(`${time} ${level} ${message}${rest ? ` ${rest}` : ''}`);
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/**
 * A logger for what one peer causes: at most `perWindow` lines per `windowMs`; the lines dropped
 * are counted and reported in one line when the next window opens. Fields are escaped and cut by
 * safeText whatever the underlying logger does.
 */
export function peerLogger(base: Logger, now: () => number, options: { clientId?: string; perWindow?: number; windowMs?: number } = {}): Logger {
  const perWindow = options.perWindow ?? 20;
  const windowMs = options.windowMs ?? 10_000;
  let windowStart = -Infinity;
  let lines = 0;
  let dropped = 0;
  const gate = (level: keyof Logger) => (message: string, fields?: LogFields) => {
    const t = now();
    if (t - windowStart >= windowMs) {
      if (dropped > 0) base.warn('peer log lines suppressed', { clientId: options.clientId === undefined ? undefined : safeText(options.clientId), dropped, windowMs });
      windowStart = t;
      lines = 0;
      dropped = 0;
    }
    if (lines >= perWindow) {
      dropped++;
      return;
    }
    lines++;
    base[level](safeText(message), fields ? safeFields(fields) : fields);
  };
  return { info: gate('info'), warn: gate('warn'), error: gate('error') };
}
