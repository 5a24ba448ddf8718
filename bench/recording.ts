// `npm run bench -- recording`: a 1,000,000-event recording written by the real recorder, then opened by its index
// (the tail, then one snapshot line by offset) against reading the whole file. CPNET_BENCH_EVENTS lowers the count.
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRecorder, readRecordingIndex, readSnapshotBefore } from '@cpnet/simulator';
import { printTable, writeFigures } from './lib.ts';

const EVENTS = Number(process.env.CPNET_BENCH_EVENTS ?? 1_000_000);
const NODES = 100;
const CLUSTERS = 1000;
const START = Date.parse('2026-12-05T00:00:00.000Z');

const provinces = ['11', '31', '44', '51', '52', '15', '62', '64'];
const nodes = Array.from({ length: NODES }, (_, i) => {
  const p = provinces[i % provinces.length]!;
  return {
    code: i === 0 ? 'CPN' : `CPN.${p}`,
    role: (i === 0 ? 'national' : 'regional') as 'regional',
    name: `节点 ${i}`,
    parent: i === 0 ? null : 'CPN',
    province: i === 0 ? null : p,
    industry: null,
    lifecycle: 'online' as const,
    health: 'healthy' as const,
    url: null,
  };
}).filter((n, i, all) => all.findIndex((m) => m.code === n.code) === i);
const clusters = Array.from({ length: CLUSTERS }, (_, i) => ({
  id: `CPN.51/CL-${String(i).padStart(8, '0')}`,
  node: 'CPN.51',
  provider: 'CPN.51/PV-01',
  name: `集群 ${i}`,
  province: provinces[i % provinces.length]!,
  lifecycle: 'active' as const,
  health: 'healthy' as const,
  cpuCores: 512,
  cpuAvailable: 256,
  accelerators: 8,
  acceleratorsAvailable: 4,
  utilisation: 0.5,
  pricePerCoreHourYuan: 0.1,
  greenShare: 0.5,
}));

function event(i: number) {
  const job = `CPN.31/JB-${i.toString(36).toUpperCase().padStart(8, '0')}`;
  return {
    id: `e${i}`,
    type: 'job.run' as const,
    at: new Date(START + i * 10).toISOString(),
    node: 'CPN.51',
    subject: job,
    severity: 'info' as const,
    data: {
      origin: 'CPN.31',
      originProvince: '31',
      tenant: 'acme@CPN.31',
      state: 'running',
      cluster: clusters[i % CLUSTERS]!.id,
      province: '51',
      owner: 'CPN.51',
      traceparent: `00-${(i * 2654435761).toString(16).padStart(32, '0').slice(-32)}-${'1'.repeat(16)}-01`,
    },
  };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cpnet-bench-rec-'));
  const file = join(dir, 'run.jsonl');
  const fd = openSync(file, 'w');
  let buffer: string[] = [];
  const flush = () => {
    if (buffer.length) writeSync(fd, buffer.join(''));
    buffer = [];
  };
  const t0 = performance.now();
  const recorder = createRecorder({
    header: {
      kind: 'cpnet-recording',
      version: 1,
      protocol: '1.0',
      scenario: 'bench',
      seed: 1,
      startedAt: new Date(START).toISOString(),
      topology: {},
    },
    sink: (line) => {
      buffer.push(`${line}\n`);
      if (buffer.length >= 10_000) flush();
    },
    snapshot: (t) => ({
      at: new Date(START + t).toISOString(),
      nodes,
      clusters,
      links: [],
      jobs: [],
      counters: {
        identifiersRegistered: 0,
        identifiersResolved: 0,
        jobsByState: {},
        schedulingP50Ms: null,
        schedulingP99Ms: null,
        securityAlerts: 0,
      },
    }),
  });
  // One event per 10 ms of virtual time: 1,000,000 events are 10,000 s, so 1,000 snapshots.
  for (let i = 0; i < EVENTS; i++) {
    recorder.event(i * 10, event(i));
    if (i % 1000 === 999) recorder.tick(i * 10);
  }
  recorder.close(EVENTS * 10);
  flush();
  closeSync(fd);
  const writeS = (performance.now() - t0) / 1000;
  const bytes = statSync(file).size;

  let t = performance.now();
  const idx = await readRecordingIndex(file);
  if (!idx.ok) throw new Error(idx.error);
  const snap = await readSnapshotBefore(file, { index: idx.index, t: EVENTS * 5 });
  const indexOpenMs = performance.now() - t;
  if (!snap) throw new Error('no snapshot');
  // The baseline: reading every byte once, counting lines (a whole recording this large does not fit one JS string:
  // readFileSync(…, 'utf8') fails with ERR_STRING_TOO_LONG above 512 MiB).
  t = performance.now();
  let lines = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>)
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
  const wholeReadMs = performance.now() - t;
  const figures = {
    events: EVENTS,
    snapshots: idx.index.snapshots.length,
    file_mib: bytes / 2 ** 20,
    bytes_per_event_with_snapshots: bytes / EVENTS,
    bytes_per_event_line: (bytes - idx.index.snapshots.length * JSON.stringify({ nodes, clusters }).length) / EVENTS,
    write_s: writeS,
    index_open_and_seek_ms: indexOpenMs,
    whole_read_ms: wholeReadMs,
    ratio_index_to_whole: indexOpenMs / wholeReadMs,
    lines,
  };
  printTable('recording: open by index against reading the whole file', [figures]);
  console.log(`wrote ${writeFigures('recording', figures)}`);
  rmSync(dir, { recursive: true, force: true });
}
