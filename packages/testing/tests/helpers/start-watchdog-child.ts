/**
 * A parent for the watchdog tests: starts a container watchdog for the Docker API at argv[2] (JSON
 * target) and session argv[3], prints its pid as one JSON line, then waits to be killed.
 */
import { startWatchdog } from '../../src/containers/watchdog';

const watchdog = await startWatchdog(JSON.parse(process.argv[2] ?? '{}'), process.argv[3] ?? 'session');
process.stdout.write(`${JSON.stringify({ pid: watchdog.pid })}\n`);
setInterval(() => undefined, 1000);
