import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // vitest 4 can otherwise load two copies of graphql ("Cannot use GraphQLScalarType from another module").
    alias: { graphql: 'graphql/index.js' },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
