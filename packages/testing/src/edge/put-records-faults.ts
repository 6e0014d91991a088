/**
 * PutRecords entry failures injected at the edge: a seeded fraction of the entries fail in place
 * while the call succeeds, as on a hot shard.
 *
 * @internal
 */
import { LocalAwsError } from '../errors';
import type { FaultInjector } from '../faults/fault-injector';
import {
  type EdgeAgents,
  type EdgeRequest,
  type EdgeResponse,
  forward,
  readAll,
  send,
  sendJson,
  sendRaw,
} from './http-exchange';

interface PutRecordsRequest {
  Records?: unknown[];
  [key: string]: unknown;
}
interface PutRecordsResultEntry {
  SequenceNumber?: string;
  ShardId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

/**
 * Fails a seeded fraction of the entries: only the others go upstream, and the failed ones are
 * spliced back into the response at their positions, as Kinesis reports partial failures.
 */
export async function putRecordsWithFailures(
  req: EdgeRequest,
  res: EdgeResponse,
  upstream: string,
  body: Buffer,
  faults: FaultInjector,
  agents: EdgeAgents,
): Promise<void> {
  const contentType = String(req.headers['content-type'] ?? '');
  if (!contentType.startsWith('application/x-amz-json-1.1') && !contentType.startsWith('application/json')) {
    return sendJson(res, 400, 'application/x-amz-json-1.1', {
      __type: 'SerializationException',
      message: `The Tidemark edge injects PutRecords entry failures only into JSON bodies (application/x-amz-json-1.1), not ${contentType || 'bodies without a content type'}; disable CBOR (AWS_CBOR_DISABLE=1) or clear the PutRecords fault`,
    });
  }
  let request: PutRecordsRequest;
  try {
    request = JSON.parse(body.toString('utf8')) as PutRecordsRequest;
  } catch {
    return forward(req, res, upstream, body, agents);
  }
  if (!Array.isArray(request.Records) || request.Records.length === 0) {
    return forward(req, res, upstream, body, agents);
  }
  const records = request.Records;
  const failures = faults.putRecordsEntryFailures(records.length);
  const surviving = records.filter((_, index) => !failures[index]);
  const failedCount = records.length - surviving.length;
  if (failedCount === 0) return forward(req, res, upstream, body, agents);

  let upstreamEntries: PutRecordsResultEntry[] = [];
  let upstreamFailed = 0;
  let extra: Record<string, unknown> = {};
  if (surviving.length > 0) {
    const forwarded = Buffer.from(JSON.stringify({ ...request, Records: surviving }), 'utf8');
    const response = await send(req, upstream, forwarded, agents);
    const responseBody = await readAll(response);
    if (response.statusCode !== 200) {
      // The whole call failed upstream (e.g. ResourceNotFoundException): pass that through as is.
      return sendRaw(res, response.statusCode ?? 502, response.headers, responseBody);
    }
    const parsed = JSON.parse(responseBody.toString('utf8')) as {
      Records?: PutRecordsResultEntry[];
      FailedRecordCount?: number;
      [key: string]: unknown;
    };
    const { Records: entries = [], FailedRecordCount = 0, ...rest } = parsed;
    if (entries.length !== surviving.length) {
      throw new LocalAwsError(
        'EDGE_PUT_RECORDS_MISMATCH',
        `Upstream answered PutRecords with ${entries.length} entries for ${surviving.length} records`,
      );
    }
    upstreamEntries = entries;
    upstreamFailed = FailedRecordCount;
    extra = rest;
  }
  faults.recordEntryFailures(failedCount);
  let next = 0;
  const merged = failures.map((failed): PutRecordsResultEntry => {
    if (failed) {
      return {
        ErrorCode: 'ProvisionedThroughputExceededException',
        ErrorMessage: 'Rate exceeded for shard (injected by the Tidemark edge)',
      };
    }
    const entry = upstreamEntries[next];
    next += 1;
    return entry as PutRecordsResultEntry;
  });
  return sendJson(res, 200, 'application/x-amz-json-1.1', {
    ...extra,
    FailedRecordCount: upstreamFailed + failedCount,
    Records: merged,
  });
}
