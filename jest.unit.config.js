// Unit tier: pure logic, no services. Specs live beside the code.
module.exports = {
  ...require('./jest.base'),
  displayName: 'unit',
  testMatch: ['<rootDir>/{apps,libs,infra,bench}/**/*.spec.ts'],
};
