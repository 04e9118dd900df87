module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'tensor-io',
  rootDir: __dirname,
};
