module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'client-node',
  rootDir: __dirname,
};
