import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serializeSafetensors, sha256Hex } from '@fedsnell/tensor-io';
import { loadBackboneFolder, saveBackboneFolder } from './backbone-folder';
import { tinyBackbone, tinyConfigJson } from './tiny-backbone.testing';

const FIXTURE = process.env['FEDSNELL_FIXTURE_DIR'] as string;

describe('loadBackboneFolder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vit-folder-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the timm fixture with its sha256', async () => {
    const folder = await loadBackboneFolder(FIXTURE);
    expect(folder.config).toMatchObject({ architecture: 'vit_tiny_patch16_224', embedDim: 32, depth: 2, numClasses: 5 });
    expect(folder.tensors.get('blocks.1.attn.qkv.weight')!.shape).toEqual([96, 32]);
    expect(folder.sha256).toBe('8db5b0561c2e0ac940166209c25783977c42aee71e0c031ed0c436462dcfa3b2');
    expect(folder.unusedTensors).toEqual([]);
  });

  it('reads F16 weights', async () => {
    const { tensors } = tinyBackbone();
    await writeFile(join(dir, 'config.json'), JSON.stringify(tinyConfigJson()));
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(tensors, { dtype: 'F16' }));
    const folder = await loadBackboneFolder(dir);
    expect(folder.tensors.get('norm.bias')!.data[0]).toBeCloseTo(tensors.get('norm.bias')!.data[0], 3);
  });

  it('round-trips through saveBackboneFolder', async () => {
    const { tensors } = tinyBackbone();
    await saveBackboneFolder(join(dir, 'out'), tinyConfigJson(), tensors);
    const folder = await loadBackboneFolder(join(dir, 'out'));
    expect(folder.tensors.get('pos_embed')!.data).toEqual(tensors.get('pos_embed')!.data);
    expect(folder.configJson).toEqual(tinyConfigJson());
  });

  it('writes F16 on request and returns the bytes it wrote', async () => {
    const { tensors } = tinyBackbone();
    const bytes = await saveBackboneFolder(join(dir, 'half'), tinyConfigJson(), tensors, { dtype: 'F16' });
    const folder = await loadBackboneFolder(join(dir, 'half'));
    expect(folder.sha256).toBe(await sha256Hex(bytes));
    const back = folder.tensors.get('pos_embed')!.data;
    const want = tensors.get('pos_embed')!.data;
    expect(Math.max(...back.map((v, i) => Math.abs(v - want[i])))).toBeLessThan(1e-3);
    expect(back).not.toEqual(want);
  });

  it('rejects a missing folder', async () => {
    await expect(loadBackboneFolder(join(dir, 'nope'))).rejects.toThrow(`loadBackboneFolder(): '${join(dir, 'nope')}' has no config.json`);
  });

  it('rejects a missing model file', async () => {
    await copyFile(join(FIXTURE, 'config.json'), join(dir, 'config.json'));
    await expect(loadBackboneFolder(dir)).rejects.toThrow(`loadBackboneFolder(): '${dir}' has no model.safetensors`);
  });

  it('rejects bad JSON', async () => {
    await writeFile(join(dir, 'config.json'), '{"architecture": ');
    await expect(loadBackboneFolder(dir)).rejects.toThrow(`loadBackboneFolder(): ${join(dir, 'config.json')} is not valid JSON`);
  });

  it('rejects corrupt weights', async () => {
    await copyFile(join(FIXTURE, 'config.json'), join(dir, 'config.json'));
    await writeFile(join(dir, 'model.safetensors'), new Uint8Array([1, 2, 3]));
    await expect(loadBackboneFolder(dir)).rejects.toThrow(`loadBackboneFolder(): ${join(dir, 'model.safetensors')} is not readable safetensors`);
  });

  it('rejects weights that contradict the config', async () => {
    await writeFile(join(dir, 'config.json'), JSON.stringify(tinyConfigJson({ embed_dim: 16 })));
    await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(tinyBackbone().tensors));
    await expect(loadBackboneFolder(dir)).rejects.toThrow(/has shape \[1,1,8\] but the config needs \[1,1,16\]/);
  });
});

describe('loadBackboneFolder config errors', () => {
  it('names the file of a bad config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vit-folder-'));
    await writeFile(join(dir, 'config.json'), JSON.stringify({ architecture: 'vit_tiny_patch16_224', model_args: { global_pool: 'avg' } }));
    await expect(loadBackboneFolder(dir)).rejects.toThrow(
      `loadBackboneFolder(): ${join(dir, 'config.json')}: resolveVitConfig(): model_args.global_pool = "avg" is not supported`,
    );
    await rm(dir, { recursive: true, force: true });
  });
});
