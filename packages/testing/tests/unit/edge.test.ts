import http from 'node:http';
import http2 from 'node:http2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Edge, routeTarget, startEdge } from '../../src/edge/edge';

interface Seen {
  upstream: string;
  target: string | undefined;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** A fake engine that records what reaches it and answers PutRecords like Kinesis. */
async function fakeUpstream(name: string, seen: Seen[], failIndexes: readonly number[] = []) {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const target = req.headers['x-amz-target'] as string | undefined;
      seen.push({ upstream: name, target, body, headers: req.headers });
      if (target === 'Kinesis_20131202.PutRecords') {
        const { Records, StreamName } = JSON.parse(body) as { Records: unknown[]; StreamName: string };
        if (StreamName === 'missing') {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no stream' }));
          return;
        }
        const entries = Records.map((_, index) =>
          failIndexes.includes(index)
            ? { ErrorCode: 'InternalFailure', ErrorMessage: 'engine' }
            : { SequenceNumber: `${name}-${index}`, ShardId: 'shardId-000000000000' },
        );
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(
          JSON.stringify({ FailedRecordCount: failIndexes.length, Records: entries, EncryptionType: 'NONE' }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(JSON.stringify({ upstream: name }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, close: () => new Promise((r) => server.close(r)) };
}

function post1(
  edge: Edge,
  target: string | undefined,
  body: string,
  contentType = 'application/x-amz-json-1.0',
) {
  return new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>(
    (resolve, reject) => {
      const headers: Record<string, string> = { 'content-type': contentType };
      if (target) headers['x-amz-target'] = target;
      const request = http.request(`${edge.endpoint}/`, { method: 'POST', headers }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: text, headers: response.headers }),
        );
      });
      request.on('error', reject);
      request.end(body);
    },
  );
}

function post2(edge: Edge, target: string, body: string, contentType = 'application/x-amz-json-1.1') {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const session = http2.connect(edge.endpoint);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/',
      'content-type': contentType,
      'x-amz-target': target,
    });
    let status = 0;
    let text = '';
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    stream.on('end', () => {
      session.close();
      resolve({ status, body: text });
    });
    stream.on('error', reject);
    stream.end(body);
  });
}

describe('routeTarget', () => {
  it('routes by X-Amz-Target prefix', () => {
    expect(routeTarget('DynamoDB_20120810.PutItem')).toEqual({ service: 'dynamodb', operation: 'PutItem' });
    expect(routeTarget('DynamoDBStreams_20120810.GetRecords')).toEqual({
      service: 'dynamodbStreams',
      operation: 'GetRecords',
    });
    expect(routeTarget('Kinesis_20131202.PutRecords')).toEqual({
      service: 'kinesis',
      operation: 'PutRecords',
    });
    expect(routeTarget('SQS.SendMessage')).toBeUndefined();
    expect(routeTarget(undefined)).toBeUndefined();
  });
});

describe('startEdge', () => {
  let seen: Seen[];
  let upstreams: Awaited<ReturnType<typeof fakeUpstream>>[];
  let edge: Edge;

  beforeEach(async () => {
    seen = [];
    upstreams = [
      await fakeUpstream('ddb', seen),
      await fakeUpstream('streams', seen),
      await fakeUpstream('kinesis', seen, [1]),
    ];
    edge = await startEdge({
      routes: { dynamodb: upstreams[0]!.url, dynamodbStreams: upstreams[1]!.url, kinesis: upstreams[2]!.url },
    });
  });

  afterEach(async () => {
    await edge.close();
    await Promise.all(upstreams.map((upstream) => upstream.close()));
  });

  it('takes HTTP/1.1 and HTTP/2 with prior knowledge on one port and routes by target', async () => {
    const ddb = await post1(edge, 'DynamoDB_20120810.ListTables', '{}');
    const streams = await post1(edge, 'DynamoDBStreams_20120810.ListStreams', '{}');
    const kinesis = await post2(edge, 'Kinesis_20131202.ListStreams', '{"Limit":1}');

    expect(JSON.parse(ddb.body)).toEqual({ upstream: 'ddb' });
    expect(ddb.headers['x-upstream']).toBe('ddb');
    expect(JSON.parse(streams.body)).toEqual({ upstream: 'streams' });
    expect(kinesis).toEqual({ status: 200, body: JSON.stringify({ upstream: 'kinesis' }) });
    expect(seen.map((call) => [call.upstream, call.body])).toEqual([
      ['ddb', '{}'],
      ['streams', '{}'],
      ['kinesis', '{"Limit":1}'],
    ]);
    expect(seen[2]?.headers[':method']).toBeUndefined();
  });

  it('answers 404 for calls it cannot route', async () => {
    const response = await post1(edge, undefined, '{}');

    expect(response.status).toBe(404);
    expect(JSON.parse(response.body).__type).toBe('UnknownOperationException');
    expect(seen).toEqual([]);
  });

  it('splices failed entries between the engine answers and adds up FailedRecordCount', async () => {
    edge.faults.set({ kinesis: { putRecordsEntryFailureRate: 1 }, maxFaults: 1 });
    const body = JSON.stringify({
      StreamName: 's',
      Records: ['a', 'b', 'c'].map((d) => ({ Data: d, PartitionKey: d })),
    });

    const response = await post2(edge, 'Kinesis_20131202.PutRecords', body);
    const answer = JSON.parse(response.body);

    expect(JSON.parse(seen[0]?.body ?? '').Records).toEqual([
      { Data: 'b', PartitionKey: 'b' },
      { Data: 'c', PartitionKey: 'c' },
    ]);
    expect(answer).toEqual({
      EncryptionType: 'NONE',
      FailedRecordCount: 2,
      Records: [
        { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: expect.any(String) },
        { SequenceNumber: 'kinesis-0', ShardId: 'shardId-000000000000' },
        { ErrorCode: 'InternalFailure', ErrorMessage: 'engine' },
      ],
    });
  });

  it('passes a whole-call engine error through untouched', async () => {
    edge.faults.set({ seed: 3, kinesis: { putRecordsEntryFailureRate: 0.5 } });
    const body = JSON.stringify({
      StreamName: 'missing',
      Records: Array.from({ length: 8 }, (_, i) => ({ Data: 'x', PartitionKey: String(i) })),
    });

    const response = await post2(edge, 'Kinesis_20131202.PutRecords', body);

    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).__type).toBe('ResourceNotFoundException');
    expect(edge.faults.stats().putRecordsEntriesFailed).toBe(0);
  });

  it('refuses to fault-inject PutRecords bodies it cannot parse cleanly (CBOR)', async () => {
    edge.faults.set({ kinesis: { putRecordsEntryFailureRate: 0.5 } });

    const response = await post2(edge, 'Kinesis_20131202.PutRecords', '\u00a2', 'application/x-amz-cbor-1.1');

    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toMatchObject({ __type: 'SerializationException' });
    expect(seen).toEqual([]);
  });

  it('answers an injected error before the call reaches the engine', async () => {
    edge.faults.set({ dynamodb: { failureRate: 1 } });

    const response = await post1(edge, 'DynamoDB_20120810.PutItem', '{}');

    expect(response.status).toBe(400);
    expect(response.headers['x-amzn-errortype']).toBe('ProvisionedThroughputExceededException');
    expect(seen).toEqual([]);
  });

  it('answers 502 when the engine cannot be reached, and keeps serving', async () => {
    edge.routes = { ...edge.routes, dynamodb: 'http://127.0.0.1:9' };

    const unreachable = await post1(edge, 'DynamoDB_20120810.ListTables', '{}');
    const other = await post1(edge, 'DynamoDBStreams_20120810.ListStreams', '{}');

    expect(unreachable.status).toBe(502);
    expect(JSON.parse(unreachable.body)).toMatchObject({ __type: 'TidemarkEdgeError' });
    expect(other.status).toBe(200);
  });

  it('survives a client that goes away in the middle of a call', async () => {
    edge.faults.set({ latencyMs: 200 });
    const request = http.request(`${edge.endpoint}/`, {
      method: 'POST',
      headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' },
    });
    request.on('error', () => undefined);
    request.end('{}');
    await new Promise((resolve) => setTimeout(resolve, 20));
    request.destroy();
    edge.faults.clear();

    const after = await post1(edge, 'DynamoDB_20120810.ListTables', '{}');

    expect(after.status).toBe(200);
  });

  it('serves the fault-control API over HTTP', async () => {
    const url = `${edge.endpoint}/__tidemark/faults`;

    const put = await fetch(url, { method: 'PUT', body: JSON.stringify({ latencyMs: 1 }) });
    const get = (await (await fetch(url)).json()) as { settings: unknown };
    const bad = await fetch(url, { method: 'PUT', body: 'not json' });

    expect(put.status).toBe(200);
    expect(get.settings).toEqual({ latencyMs: 1 });
    expect(bad.status).toBe(400);
  });
});
