// Integration tier: real Postgres and Kafka (started by infra/bin/test.sh), one library at a time.
module.exports = {
  ...require('./jest.base'),
  displayName: 'integration',
  testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'],
  testTimeout: 60_000,
  maxWorkers: 1,
};
