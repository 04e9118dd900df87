import { parseRange } from './range';

describe('parseRange', () => {
  it('gives the whole file without a header', () => {
    expect(parseRange(undefined, 10)).toEqual({ kind: 'whole' });
  });

  it('reads a closed range', () => {
    expect(parseRange('bytes=2-5', 10)).toEqual({ kind: 'partial', start: 2, end: 5 });
  });

  it('reads an open range', () => {
    expect(parseRange('bytes=7-', 10)).toEqual({ kind: 'partial', start: 7, end: 9 });
  });

  it('reads a suffix range', () => {
    expect(parseRange('bytes=-3', 10)).toEqual({ kind: 'partial', start: 7, end: 9 });
  });

  it('clamps an end past the file', () => {
    expect(parseRange('bytes=8-100', 10)).toEqual({ kind: 'partial', start: 8, end: 9 });
  });

  it('refuses a start past the file', () => {
    expect(parseRange('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
  });

  it('serves several ranges as the whole file', () => {
    expect(parseRange('bytes=0-1,4-5', 10)).toEqual({ kind: 'whole' });
  });
});
