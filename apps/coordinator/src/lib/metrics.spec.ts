import { Metrics } from './metrics';

describe('Metrics', () => {
  it('renders a counter with labels', () => {
    const m = new Metrics();
    m.counter('updates_rejected_total', 'Refused updates.');
    m.inc('updates_rejected_total', { code: 'NON_FINITE' });
    m.inc('updates_rejected_total', { code: 'NON_FINITE' });
    expect(m.render()).toBe(
      '# HELP fedsnell_updates_rejected_total Refused updates.\n# TYPE fedsnell_updates_rejected_total counter\nfedsnell_updates_rejected_total{code="NON_FINITE"} 2\n',
    );
  });

  it('renders an untouched counter as zero', () => {
    const m = new Metrics();
    m.counter('x_total', 'X.');
    expect(m.render()).toContain('fedsnell_x_total 0\n');
  });

  it('sets gauges', () => {
    const m = new Metrics();
    m.gauge('round', 'Round.');
    m.set('round', 4);
    expect(m.get('round')).toBe(4);
  });

  it('escapes label values', () => {
    const m = new Metrics();
    m.gauge('g', 'G.');
    m.set('g', 1, { v: 'a"b' });
    expect(m.render()).toContain('fedsnell_g{v="a\\"b"} 1');
  });

  it('refuses an undefined metric', () => {
    expect(() => new Metrics().inc('nope')).toThrow('name passed to Metrics must be a defined metric but got nope');
  });
});
