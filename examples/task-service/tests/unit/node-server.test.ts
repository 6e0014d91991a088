import { afterEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, type RunningServer, startNodeServer } from '../../src/http/node-server';
import type { HttpRequest } from '../../src/http/types';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('startNodeServer', () => {
  it('hands the route code the method, the path without query, lower-case headers and the body', async () => {
    const seen: HttpRequest[] = [];
    server = await startNodeServer(async (request) => {
      seen.push(request);
      return { status: 202, headers: { etag: '"7"' }, body: '{"ok":true}' };
    });

    const response = await fetch(`${server.url}/tasks/abc?verbose=1`, {
      method: 'PATCH',
      headers: { 'If-Match': '"6"' },
      body: '{"done":true}',
    });

    expect(response.status).toBe(202);
    expect(response.headers.get('etag')).toBe('"7"');
    expect(await response.json()).toEqual({ ok: true });
    expect(seen[0]).toMatchObject({
      method: 'PATCH',
      path: '/tasks/abc',
      body: '{"done":true}',
      headers: expect.objectContaining({ 'if-match': '"6"' }),
    });
  });

  it('answers 413 without calling the routes for a body over the limit', async () => {
    let calls = 0;
    server = await startNodeServer(async () => {
      calls++;
      return { status: 200, headers: {} };
    });

    const response = await fetch(`${server.url}/tasks`, {
      method: 'POST',
      body: 'x'.repeat(MAX_BODY_BYTES + 1),
    });

    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BODY_TOO_LARGE');
    expect(calls).toBe(0);
  });

  it.each([
    ['a byte that is never UTF-8', [0xff]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('answers 400 without calling the routes for a body with %s', async (_label, bytes) => {
    let calls = 0;
    server = await startNodeServer(async () => {
      calls++;
      return { status: 200, headers: {} };
    });
    const body = Buffer.concat([Buffer.from('{"name":"'), Buffer.from(bytes), Buffer.from('"}')]);

    const response = await fetch(`${server.url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BODY_ENCODING_INVALID');
    expect(calls).toBe(0);
  });

  it('passes a UTF-8 body through unchanged, a byte order mark removed', async () => {
    const seen: HttpRequest[] = [];
    server = await startNodeServer(async (request) => {
      seen.push(request);
      return { status: 204, headers: {} };
    });
    const text = '{"name":"👩‍💻 é"}';
    await fetch(`${server.url}/tasks`, {
      method: 'POST',
      body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
    });
    expect(seen[0]?.body).toBe(text);
  });

  it('passes no body for a request without one', async () => {
    const seen: HttpRequest[] = [];
    server = await startNodeServer(async (request) => {
      seen.push(request);
      return { status: 204, headers: {} };
    });
    await fetch(`${server.url}/tasks/abc`);
    expect(seen[0]?.body).toBeUndefined();
  });
});
