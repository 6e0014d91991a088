import { encodeEnvelope } from '@tidemark/core';
import { envelopeGrid } from '../src/envelopes';
const envs = envelopeGrid('m', 100, 10);
const strs = envs.map((e) => JSON.stringify(e));
const te = new TextEncoder();
function t(name: string, f: () => void) {
  for (let i = 0; i < 30; i++) f();
  const s = process.cpuUsage(); const N = 100; for (let i = 0; i < N; i++) f(); const u = process.cpuUsage(s);
  console.log(name.padEnd(30), ((u.user + u.system) / N / envs.length).toFixed(3), 'µs/record');
}
t('TextEncoder.encode', () => { for (const s of strs) te.encode(s); });
t('Buffer.from', () => { for (const s of strs) Buffer.from(s, 'utf8'); });
t('Buffer.from view', () => { for (const s of strs) { const b = Buffer.from(s, 'utf8'); new Uint8Array(b.buffer, b.byteOffset, b.byteLength); } });
t('byteLength+encodeInto', () => { for (const s of strs) { const u = new Uint8Array(Buffer.byteLength(s)); te.encodeInto(s, u); } });
t('byteLength+write', () => { for (const s of strs) { const u = Buffer.allocUnsafeSlow(Buffer.byteLength(s)); u.write(s); } });
t('pk TextEncoder', () => { for (const e of envs) te.encode(`${e.aggregatetype}#${e.aggregateid}`).byteLength; });
t('pk Buffer.byteLength', () => { for (const e of envs) Buffer.byteLength(`${e.aggregatetype}#${e.aggregateid}`, 'utf8'); });
t('JSON.stringify', () => { for (const e of envs) JSON.stringify(e); });
