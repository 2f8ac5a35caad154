/**
 * The gateway under test, in its own process: exactly what `npm start` runs (src/main.ts `run` with
 * `loadConfig(process.env)`), plus the bench's process protocol (announce the URL over IPC, stop when the
 * runner goes away). The runner passes the environment we would deploy with.
 */
import { loadConfig } from '../src/config.js';
import { run } from '../src/main.js';
import { announceReady, exitWithParent } from './lib/child.js';

const running = await run(loadConfig(process.env));
exitWithParent(() => running.stop());
announceReady(running.gateway.url);
