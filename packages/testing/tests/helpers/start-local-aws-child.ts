/**
 * A parent process for the process-hygiene tests: starts the embedded local AWS, prints its
 * processes as one JSON line, then ends the way argv[2] says (or waits to be killed).
 */
import { startLocalAws } from '../../src/index';

const ending = process.argv[2] ?? 'wait';
const aws = await startLocalAws({ mode: 'embedded' });
process.stdout.write(`${JSON.stringify({ processes: aws.processes, endpoint: aws.endpoint })}\n`);

if (ending === 'crash') {
  setTimeout(() => {
    throw new Error('simulated crash of the parent');
  }, 50);
} else if (ending === 'exit') {
  setTimeout(() => process.exit(0), 50);
} else {
  // Keep the parent alive until the test kills it.
  setInterval(() => undefined, 1000);
}
