import { context, update, valuesOf } from './fixtures.testing';
import { coordinateMedian, trimmedMean } from './robust';

const global = context({ w: [0, 0] });

describe('coordinateMedian', () => {
  it('takes the middle value per coordinate', async () => {
    const updates = [update('a', 1, { w: [1, 30] }), update('b', 1, { w: [100, 10] }), update('c', 1, { w: [3, 20] })];

    const result = await coordinateMedian().aggregate(global, updates);

    expect(valuesOf(result?.state, 'w')).toEqual([3, 20]);
  });

  it('averages the two middle values for an even count', async () => {
    const updates = [1, 2, 3, 10].map((v, i) => update(`c${i}`, 1, { w: [v, -v] }));

    const result = await coordinateMedian().aggregate(global, updates);

    expect(valuesOf(result?.state, 'w')).toEqual([2.5, -2.5]);
  });

  it('ignores example counts', async () => {
    const updates = [update('a', 1000, { w: [0, 0] }), update('b', 1, { w: [1, 1] }), update('c', 1, { w: [2, 2] })];

    const result = await coordinateMedian().aggregate(global, updates);

    expect(valuesOf(result?.state, 'w')).toEqual([1, 1]);
  });

  it('keeps the previous global when no client replied', async () => {
    expect(await coordinateMedian().aggregate(global, [])).toBeNull();
  });
});

describe('trimmedMean', () => {
  it('drops ⌊β·k⌋ values from each side', async () => {
    const updates = [0, 1, 2, 100].map((v, i) => update(`c${i}`, 1, { w: [v, -v] }));

    const result = await trimmedMean({ beta: 0.25 }).aggregate(global, updates);

    expect(valuesOf(result?.state, 'w')).toEqual([1.5, -1.5]);
    expect(result?.info?.['trimmedEachSide']).toBe(1);
  });

  it('trims nothing when β·k < 1', async () => {
    const updates = [0, 1, 2, 101].map((v, i) => update(`c${i}`, 1, { w: [v, 0] }));

    const result = await trimmedMean({ beta: 0.2 }).aggregate(global, updates);

    expect(valuesOf(result?.state, 'w')).toEqual([26, 0]);
  });

  it('rejects β = 0.5', () => {
    expect(() => trimmedMean({ beta: 0.5 })).toThrow('beta passed to trimmedMean() must be in [0, 0.5) but got 0.5');
  });
});
