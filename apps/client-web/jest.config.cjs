module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'client-web',
  rootDir: __dirname,
};
