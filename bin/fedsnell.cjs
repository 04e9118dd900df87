#!/usr/bin/env node
// The `fedsnell` command. Runs the TypeScript sources directly through tsx (no build step after
// `npm ci`), resolving the workspace aliases from tsconfig.base.json.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
process.env.TSX_TSCONFIG_PATH = path.join(root, 'tsconfig.base.json');
// Native WebGPU (Dawn) reads the Vulkan driver list at load time; without a GPU driver, use the
// SwiftShader one that Debian's chromium ships.
const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && fs.existsSync(swiftshader)) process.env.VK_ICD_FILENAMES = swiftshader;

// Dawn asks for a runtime folder even when it renders nothing
if (!process.env.XDG_RUNTIME_DIR) {
  const dir = path.join(require('node:os').tmpdir(), `fedsnell-xdg-${process.getuid ? process.getuid() : 0}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = dir;
}

require('tsx/cjs');
require(path.join(root, 'apps/cli/src/main.ts'));
