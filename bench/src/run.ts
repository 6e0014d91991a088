/**
 * `npm run bench [name…]`: runs every benchmark, or those named, prints a table and writes
 * `bench/results/<time>.json` with the machine description. Names: publisher, consumer-cpu,
 * consumer-dynamodb, end-to-end.
 */
import { type LocalAws, startLocalAws } from '@tidemark/testing';
import { consumerCpuBench } from './benches/consumer-cpu';
import { consumerDynamoDbBench } from './benches/consumer-dynamodb';
import { endToEndBench } from './benches/end-to-end';
import { publisherBench } from './benches/publisher';
import { describeMachine } from './machine';
import { type Figure, printTable, writeResults } from './report';

interface Bench {
  readonly name: string;
  readonly needsAws: boolean;
  readonly run: (aws: LocalAws | undefined) => Promise<Figure[]>;
}

const BENCHES: readonly Bench[] = [
  { name: 'publisher', needsAws: false, run: () => publisherBench() },
  { name: 'consumer-cpu', needsAws: false, run: () => consumerCpuBench() },
  { name: 'consumer-dynamodb', needsAws: true, run: (aws) => consumerDynamoDbBench(aws!) },
  { name: 'end-to-end', needsAws: true, run: (aws) => endToEndBench(aws!) },
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !BENCHES.some((b) => b.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `Unknown benchmark ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}`,
    );
  }
  const selected = wanted.length === 0 ? BENCHES : BENCHES.filter((b) => wanted.includes(b.name));
  const machine = describeMachine();
  let aws: LocalAws | undefined;
  const figures: Figure[] = [];
  try {
    if (selected.some((b) => b.needsAws)) {
      // The figures are for the embedded engines (DynamoDB Local + kinesis-mock) on this machine.
      aws = await startLocalAws({ mode: 'embedded' });
    }
    for (const bench of selected) {
      console.error(`running ${bench.name}…`);
      figures.push(...(await bench.run(aws)));
    }
  } finally {
    await aws?.stop();
  }
  console.log(
    `\n${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}, node ${machine.node}, ${machine.java ?? 'no Java'}\n`,
  );
  printTable(figures);
  console.log(`\nwritten to ${writeResults(machine, figures)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
