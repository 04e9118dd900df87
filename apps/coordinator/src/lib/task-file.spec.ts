import { parseTaskFile, taskSnellConfig } from './task-file';

describe('taskSnellConfig', () => {
  it('makes kernel linear alone plain dense LoRA', () => {
    const snell = taskSnellConfig(parseTaskFile({ snell: { kernel: 'linear' } }));
    expect(snell).toMatchObject({ kernel: 'linear', heads: 1, scale: 1, sparsity: 0 });
  });

  it('keeps the reference defaults for the distance kernel', () => {
    expect(taskSnellConfig(parseTaskFile({}))).toMatchObject({ kernel: 'distance', heads: 2, scale: 0.1, sparsity: 0.9 });
  });

  it('keeps an explicit sparsity for the linear kernel', () => {
    expect(taskSnellConfig(parseTaskFile({ snell: { kernel: 'linear', sparsity: 0.5 } })).sparsity).toBe(0.5);
  });

  it('rejects a coefficient scale for the linear kernel in one line', () => {
    expect(() => taskSnellConfig(parseTaskFile({ snell: { kernel: 'linear', scale: 0.1 } }), 'lora.json')).toThrow(
      "lora.json: snell: scale passed to resolveSnellConfig() must be 1 for the 'linear' kernel (it has no coefficient) but got 0.1",
    );
  });

  it('rejects two heads for the linear kernel', () => {
    expect(() => taskSnellConfig(parseTaskFile({ snell: { kernel: 'linear', heads: 2 } }))).toThrow(/heads .* must be 1 for the 'linear' kernel but got 2/);
  });
});

describe('task file options for short local runs', () => {
  it('defaults to the reference semantics', () => {
    const task = parseTaskFile({});
    expect(task.snell.factorInitScale).toBe(1);
    expect(task.trainer).toMatchObject({ factorLrScale: 1, denseWarmupEpochs: 0, sparsityRampEpochs: 0, logitAdjustment: 0 });
  });

  it('keeps the options it is given', () => {
    const task = parseTaskFile({ snell: { factorInitScale: 10 }, trainer: { factorLrScale: 10, denseWarmupEpochs: 1, sparsityRampEpochs: 0.5, logitAdjustment: 1 } });
    expect(task.snell.factorInitScale).toBe(10);
    expect(task.trainer).toMatchObject({ factorLrScale: 10, denseWarmupEpochs: 1, sparsityRampEpochs: 0.5, logitAdjustment: 1 });
  });

  it('rejects a zero factor learning-rate scale, naming the field', () => {
    expect(() => parseTaskFile({ trainer: { factorLrScale: 0 } }, 't.json')).toThrow(/^t\.json: trainer\.factorLrScale: /);
  });

  it('rejects a negative or non-numeric logit adjustment, naming the field', () => {
    expect(() => parseTaskFile({ trainer: { logitAdjustment: -1 } }, 't.json')).toThrow(/^t\.json: trainer\.logitAdjustment: /);
    expect(() => parseTaskFile({ trainer: { logitAdjustment: 'yes' } }, 't.json')).toThrow(/^t\.json: trainer\.logitAdjustment: /);
  });
});
