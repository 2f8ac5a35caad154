/** The execute floors by name (bench/floors.ts runs them); here so the runner need not load Yoga. */
export const FLOORS = ['yoga', 'graphql-js'] as const;
export type Floor = (typeof FLOORS)[number];
/** Where both floors answer GraphQL. */
export const FLOOR_PATH = '/graphql';
/** The scenarios that run the floors as reference sides: throughput, and added p99 at a fixed rate. */
export const FLOOR_SCENARIOS: readonly string[] = ['execute', 'latency'];
