import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTaskFile } from './task-file';

const TASKS = join(__dirname, '../../../../deploy/tasks');

describe('task file rounds: safe defaults', () => {
  it.each(readdirSync(TASKS).filter((f) => f.endsWith('.json')))('sample task %s bounds updates relative to the global state', (file) => {
    const task = parseTaskFile(JSON.parse(readFileSync(join(TASKS, file), 'utf8')), file);
    expect(task.rounds.maxRelativeUpdateNorm).toBeGreaterThan(0);
  });

  it('takes the weight cap and the reconnect grace', () => {
    const task = parseTaskFile({ rounds: { maxExamplesPerClient: 5000, reconnectGraceMs: 0 } });
    expect([task.rounds.maxExamplesPerClient, task.rounds.reconnectGraceMs]).toEqual([5000, 0]);
  });

  it('refuses a non-positive relative bound naming the field', () => {
    expect(() => parseTaskFile({ rounds: { maxRelativeUpdateNorm: 0 } }, 'task.json')).toThrow(/^task\.json: rounds\.maxRelativeUpdateNorm: /);
  });
});
