/** The execute scenario's floors by name (bench/floors.ts runs them); here so the runner need not load Yoga. */
export const FLOORS = ['yoga', 'graphql-js'] as const;
export type Floor = (typeof FLOORS)[number];
/** Where both floors answer GraphQL. */
export const FLOOR_PATH = '/graphql';
