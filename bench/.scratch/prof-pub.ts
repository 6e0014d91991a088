import { marshall } from '@aws-sdk/util-dynamodb';
import { eventLogItemFromEnvelope } from '@tidemark/core';
import { createPublisher } from '@tidemark/publisher';
import { dynamoDbStreamEventFromItems, fakeLambdaContext } from '@tidemark/testing';
import { FakeKinesis } from '@tidemark/testing/fakes';
import { quietLogger } from '../src/catalog';
import { envelopeGrid } from '../src/envelopes';
const k = new FakeKinesis(); k.createStream('s', 4);
const pub = createPublisher({ kinesis: k.client, streamName: 's', logger: quietLogger(), tableName: 'tbl' });
const A = Number(process.argv[2] ?? 1000), V = Number(process.argv[3] ?? 1);
const events = Array.from({ length: 20 }, (_, b) => dynamoDbStreamEventFromItems(envelopeGrid(`p${b}`, A, V).map((e) => ({ ...eventLogItemFromEnvelope(e), commandFirstVersion: e.aggregateversion, commandLastVersion: e.aggregateversion }))));
const ctx = fakeLambdaContext({ timeoutSeconds: 900 });
for (const e of events.slice(0, 3)) await pub(structuredClone(e), ctx);
let tot = 0;
for (let r = 0; r < 3; r++) { const bs = events.map((e) => structuredClone(e)); const s = process.cpuUsage(); for (const e of bs) await pub(e, ctx); const u = process.cpuUsage(s); tot += u.user + u.system; }
console.log('µs/record incl fake', (tot / 60000).toFixed(2));
