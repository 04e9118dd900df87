// Root jest config: one run over every project (used by scripts/test.sh for a single JSON report);
// `npx nx test <project>` runs one project through its own jest.config.cjs.
module.exports = {
  projects: ['<rootDir>/libs/*', '<rootDir>/protocol', '<rootDir>/apps/*', '<rootDir>/test'],
};
