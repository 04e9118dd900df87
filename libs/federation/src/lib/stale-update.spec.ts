import { tensors, update, valuesOf } from './fixtures.testing';
import { reframeStaleUpdate } from './stale-update';

describe('reframeStaleUpdate', () => {
  const startedFrom = tensors({ w: [1, 2], b: [0] });
  const current = tensors({ w: [10, 20], b: [5] });

  it("applies the update's change since its round started to the current state", () => {
    const moved = reframeStaleUpdate(update('c1', 8, { w: [1.5, 1], b: [2] }), { startedFrom, current }, { discount: 1, staleness: 1 });
    expect([valuesOf(moved.state, 'w'), valuesOf(moved.state, 'b'), moved.state.get('w')?.shape]).toEqual([[10.5, 19], [7], [2]]);
  });

  it('discounts the weight by discount^staleness and keeps the rest of the update', () => {
    const stale = { ...update('c1', 8, { w: [1, 2], b: [0] }), metrics: { loss: 0.5 } };
    const moved = reframeStaleUpdate(stale, { startedFrom, current }, { discount: 0.5, staleness: 3 });
    expect([moved.numExamples, moved.clientId, moved.metrics]).toEqual([1, 'c1', { loss: 0.5 }]);
  });

  it('changes none of its inputs', () => {
    const stale = update('c1', 8, { w: [0, 0], b: [0] });
    reframeStaleUpdate(stale, { startedFrom, current }, { discount: 0.9, staleness: 1 });
    expect([valuesOf(stale.state, 'w'), stale.numExamples, valuesOf(startedFrom, 'w'), valuesOf(current, 'w')]).toEqual([[0, 0], 8, [1, 2], [10, 20]]);
  });

  it('names a tensor the current state lacks or holds in another shape', () => {
    const stale = update('c1', 8, { w: [0, 0], b: [0] });
    expect(() => reframeStaleUpdate(stale, { startedFrom, current: tensors({ w: [0, 0] }) }, { discount: 1, staleness: 1 })).toThrow(
      'reframeStaleUpdate(): the global state has no tensor b that clients sent',
    );
    expect(() => reframeStaleUpdate(stale, { startedFrom, current: tensors({ w: [0, 0, 0], b: [0] }) }, { discount: 1, staleness: 1 })).toThrow(
      'reframeStaleUpdate(): global w has shape [3] but clients sent [2]',
    );
  });

  it('refuses a discount outside (0, 1] and a staleness below 1', () => {
    const stale = update('c1', 8, { w: [0, 0], b: [0] });
    expect(() => reframeStaleUpdate(stale, { startedFrom, current }, { discount: 0, staleness: 1 })).toThrow('discount passed to reframeStaleUpdate() must be in (0, 1] but got 0');
    expect(() => reframeStaleUpdate(stale, { startedFrom, current }, { discount: 0.5, staleness: 0 })).toThrow('staleness passed to reframeStaleUpdate() must be an integer ≥ 1 but got 0');
  });
});
