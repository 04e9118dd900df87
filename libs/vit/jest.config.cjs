module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'vit',
  rootDir: __dirname,
};
