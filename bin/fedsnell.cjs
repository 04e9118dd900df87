#!/usr/bin/env node
// The `fedsnell` command. In the repository it runs the TypeScript sources directly through tsx (no
// build step after `npm ci`), resolving the workspace aliases from tsconfig.base.json; in an installed
// package (no sources beside it) it runs the compiled bundle in dist/cli (tools/build-cli.cjs).
// Either way the CLI runs in this process, so Ctrl-C and SIGTERM reach it directly.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const root = path.resolve(__dirname, '..');
const sources = path.join(root, 'apps/cli/src/main.ts');
const bundle = path.join(root, 'dist/cli/fedsnell.cjs');

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

// `npx fedsnell …` runs this file under `sh -c` below npm; npm passes SIGTERM/SIGINT to that shell,
// which ends without passing it on. Take the shell's end (this process is handed to another parent)
// as the signal, so stopping the command a user started stops the command itself.
if (process.env.npm_command === 'exec') {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    process.kill(process.pid, 'SIGTERM');
  }, 250);
  watch.unref();
}

if (fs.existsSync(sources)) {
  process.env.TSX_TSCONFIG_PATH = path.join(root, 'tsconfig.base.json');
  require('tsx/cjs');
  require(sources);
} else if (fs.existsSync(bundle)) {
  // the browser pages the package ships, unless the operator points elsewhere
  const pages = path.join(root, 'dist/pages');
  if (!process.env.FEDSNELL_PAGES_DIR && fs.existsSync(pages)) process.env.FEDSNELL_PAGES_DIR = pages;
  require(bundle);
} else {
  process.stderr.write(`fedsnell: neither the sources (${sources}) nor the build (${bundle}) exist; run \`npx nx run cli:build\`\n`);
  process.exitCode = 1;
}
