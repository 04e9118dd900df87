// Shared jest settings for every project: swc transform, workspace aliases from tsconfig paths,
// and a test environment that shares typed-array constructors with Node (see tools/jest/).
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

// Native WebGPU (Dawn) reads the Vulkan driver list from the real process environment, which a
// test file cannot change; set it here, before jest starts its workers, when SwiftShader exists.
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && require('node:fs').existsSync(SWIFTSHADER_ICD)) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
}
// describeOnBackends (@fedsnell/backends/testing) adds WebGPU to blocks that ask for it only here.
if (process.env.VK_ICD_FILENAMES && process.env.FEDSNELL_TEST_WEBGPU === undefined) process.env.FEDSNELL_TEST_WEBGPU = '1';
// Test fixtures and golden vectors live in the repository (test/fixtures/, provenance in its README).
// No fallback: a missing file fails the test that needs it instead of silently switching source.
const fixtures = path.join(__dirname, 'test/fixtures');
process.env.FEDSNELL_GOLDEN_DIR = path.join(fixtures, 'golden');
process.env.FEDSNELL_FIXTURE_DIR = path.join(fixtures, 'vit-timm-tiny');

if (!process.env.XDG_RUNTIME_DIR) {
  const dir = require('node:path').join(require('node:os').tmpdir(), 'fedsnell-xdg');
  require('node:fs').mkdirSync(dir, { recursive: true, mode: 0o700 });
  process.env.XDG_RUNTIME_DIR = dir;
}

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias}$`] = path.join(__dirname, target);
}

module.exports = {
  testEnvironment: path.join(__dirname, 'tools/jest/node-realm-environment.cjs'),
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json'],
  moduleNameMapper,
  testMatch: ['**/*.spec.ts'],
  testTimeout: 60000,
};
