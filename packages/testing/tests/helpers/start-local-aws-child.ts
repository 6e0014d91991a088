/**
 * A parent process for the process-hygiene tests: starts the local AWS in the mode argv[3] names
 * (default `embedded`), prints its processes and containers as one JSON line, then ends the way
 * argv[2] says (or waits to be killed).
 */
import { type LocalAwsModeOption, startLocalAws } from '../../src/index';

const ending = process.argv[2] ?? 'wait';
const mode = (process.argv[3] ?? 'embedded') as LocalAwsModeOption;
const aws = await startLocalAws({ mode });
process.stdout.write(
  `${JSON.stringify({ processes: aws.processes, containers: aws.containers, endpoint: aws.endpoint })}\n`,
);

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
