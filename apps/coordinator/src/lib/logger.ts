import type { LogFields, Logger } from './options';

/**
 * One line per event on stderr: `2026-11-28T09:00:00.000Z warn message key=value …`, or one JSON
 * object per line with `json: true` (for log collectors).
 */
export function streamLogger(options: { json?: boolean; write?: (line: string) => void } = {}): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (level: string, message: string, fields: LogFields = {}) => {
    const time = new Date().toISOString();
    if (options.json) {
      write(JSON.stringify({ time, level, message, ...fields }));
      return;
    }
    const rest = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    write(`${time} ${level} ${message}${rest ? ` ${rest}` : ''}`);
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
