import { peerLogger, safeText, streamLogger } from './logger';

describe('safeText', () => {
  it('escapes control characters and line separators', () => {
    expect(safeText('a\u001b[31mb\r\nc\u2028d\u0085')).toBe('a\\u001b[31mb\\u000d\\u000ac\\u2028d\\u0085');
  });

  it('cuts long text and says how much was cut', () => {
    expect(safeText('x'.repeat(300), 10)).toBe(`${'x'.repeat(10)}…(+290 chars)`);
  });
});

describe('streamLogger', () => {
  it('writes one line per event whatever the fields hold', () => {
    const lines: string[] = [];
    streamLogger({ write: (l) => lines.push(l) }).warn('bad\nmessage', { reason: 'two\nlines', clientId: 'c"1' });
    expect(lines).toHaveLength(1);
    expect(lines[0].replace(/^\S+ /, '')).toBe('warn bad\\u000amessage reason=two\\u000alines clientId="c\\"1"');
  });
});

describe('peerLogger', () => {
  it('passes at most perWindow lines per window and reports the dropped ones', () => {
    const lines: string[] = [];
    let now = 0;
    const log = peerLogger(streamLogger({ write: (l) => lines.push(l) }), () => now, { clientId: 'c-1', perWindow: 3, windowMs: 1000 });
    for (let i = 0; i < 10; i++) log.warn('malformed packet', { i });
    expect(lines).toHaveLength(3);
    now = 1000;
    log.info('client disconnected');
    expect(lines.slice(3).map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'warn peer log lines suppressed clientId=c-1 dropped=7 windowMs=1000',
      'info client disconnected',
    ]);
  });
});
