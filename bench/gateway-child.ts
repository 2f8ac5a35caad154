/**
 * The gateway under test, in its own process: exactly what `npm start` runs (src/main.ts `run` with
 * `loadConfig(process.env)`), plus the bench's process protocol (announce the URL over IPC, stop when the
 * runner goes away). The runner passes the environment we would deploy with.
 *
 * Bench-only additions, all on the IPC channel and idle unless asked: `heap` (memory after a forced
 * GC; the runner starts this process with --expose-gc), `gc-stats` (GC pauses seen by a perf_hooks
 * observer, one callback per collection) and `profile-start`/`profile-stop` (a V8 CPU profile of one
 * window of a scenario, with --profile).
 */
import { loadConfig } from '../src/config.js';
import { run } from '../src/main.js';
import { announceReady, answerQuestions, exitWithParent, gcStatsHandlers, heapAfterGc } from './lib/child.js';
import { profilerHandlers } from './lib/profiler.js';

const running = await run(loadConfig(process.env));
exitWithParent(() => running.stop());
answerQuestions({ heap: () => heapAfterGc(), ...gcStatsHandlers(), ...profilerHandlers() });
announceReady(running.gateway.url);
