// End-to-end tier: the built apps as real processes over real Kafka and Postgres.
module.exports = {
  ...require('./jest.base'),
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  testTimeout: 180_000,
  maxWorkers: 1,
};
