module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'train',
  rootDir: __dirname,
};
