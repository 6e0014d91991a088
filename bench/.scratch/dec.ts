import { isUtf8 } from 'node:buffer';
import { encodeEnvelope } from '@tidemark/core';
import { envelopeGrid } from '../src/envelopes';
const envs = envelopeGrid('m', 100, 10);
const bytes = envs.map((e) => new Uint8Array(Buffer.from(encodeEnvelope(e))));
const td = new TextDecoder('utf-8', { fatal: true });
function t(name: string, f: () => void) {
  for (let i = 0; i < 30; i++) f();
  const s = process.cpuUsage(); const N = 100; for (let i = 0; i < N; i++) f(); const u = process.cpuUsage(s);
  console.log(name.padEnd(30), ((u.user + u.system) / N / envs.length).toFixed(3), 'µs/record');
}
t('TextDecoder fatal', () => { for (const b of bytes) td.decode(b); });
t('isUtf8 + toString', () => { for (const b of bytes) { if (isUtf8(b)) Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'); } });
t('JSON.parse', () => { const s = bytes.map((b) => td.decode(b)); for (const x of s) JSON.parse(x); });
t('date iso', () => { for (const b of bytes) new Date(1700000000.123 * 1000).toISOString(); });
