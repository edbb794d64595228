// Shared jest settings for every test tier. ts-jest transpiles only (isolatedModules);
// type errors are caught by `npm run typecheck`, which `npm test` runs first.
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/.run/'],
  setupFiles: ['reflect-metadata'],
  // A test that times out can leave a Kafka consumer or a pool running: the run must still end
  // (with its failure reported) instead of hanging until CI's time limit.
  forceExit: true,
};
