module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'snell',
  rootDir: __dirname,
};
