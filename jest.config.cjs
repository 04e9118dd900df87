// Root jest config: one run over every project (used by scripts/test.sh for a single JSON report);
// `npx nx test <project>` runs one project through its own jest.config.cjs.
module.exports = {
  // global options (per-project copies are ignored when running all projects)
  testTimeout: 60000,
  projects: ['<rootDir>/libs/*', '<rootDir>/protocol', '<rootDir>/apps/*', '<rootDir>/test'],
};
