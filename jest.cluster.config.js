// Kafka cluster tier: a three-node KRaft cluster of the test's own on this machine (ports from
// KAFKA_CLUSTER_PORT, default 19092-19094). Not part of `npm test`: `npm run test:cluster`, and
// the broker fault scenario alone with `npm run fault:cluster` (docs/kafka-cluster.md).
module.exports = {
  ...require('./jest.base'),
  displayName: 'cluster',
  testMatch: ['<rootDir>/test/**/*.cluster-spec.ts'],
  testTimeout: 600_000,
  maxWorkers: 1,
};
