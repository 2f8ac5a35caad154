/** The execute floors by name (bench/floors.ts runs them); here so the runner need not load Yoga. */
import type { LoadSpec } from './load.js';
import type { ScenarioId } from './options.js';

export const FLOORS = ['yoga', 'graphql-js'] as const;
export type Floor = (typeof FLOORS)[number];
/** Where both floors answer GraphQL. */
export const FLOOR_PATH = '/graphql';
/** The scenarios that run the floors as reference sides: throughput, and added p99 at a fixed rate. */
export const FLOOR_SCENARIOS: readonly ScenarioId[] = ['execute', 'latency'];

/** A floor's side in the ABAB rounds and in the results. */
export type FloorSide = `${Floor}-floor`;
export const floorSide = (f: Floor): FloorSide => `${f}-floor`;
/** The start of each floor's reference row title. */
export const FLOOR_TITLES: Record<Floor, string> = {
  yoga: 'reference: stock Yoga doing only the baseline’s work',
  'graphql-js': 'reference: hand-written graphql-js handler doing only the baseline’s work',
};

/**
 * One runner per floor (none when the floors are not running): the candidate's requests, sent to the
 * floor instead of the gateway.
 */
export function floorRunners<R>(floors: Record<Floor, { url: string }> | undefined, candidate: LoadSpec, run: (spec: LoadSpec) => R): Record<FloorSide, R> {
  if (!floors) return {} as Record<FloorSide, R>;
  return Object.fromEntries(
    FLOORS.map((f) => [floorSide(f), run({ ...candidate, origin: floors[f].url, path: FLOOR_PATH, headers: { 'content-type': 'application/json' } })]),
  ) as Record<FloorSide, R>;
}
