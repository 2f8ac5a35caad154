import { AsyncLocalStorage } from 'node:async_hooks';

/** The request a log line belongs to, without threading ids through every call. */
export const requestContext = new AsyncLocalStorage<{ requestId: string }>();
