// `tsx bench/src/heap-summary.ts <file.heapsnapshot> [top]`: what holds memory in a V8 heap snapshot (one written by
// `CPNET_THREAD_HEAP_SNAPSHOT=<dir>` in a simulator run, or by `v8.writeHeapSnapshot()` anywhere). Prints the total,
// the self size summed by constructor (node name for objects, type otherwise), and the retained size of the largest
// owners: the dominator tree (Cooper–Harvey–Kennedy over the strong edges, as Chrome DevTools computes it), each owner
// with its dominator chain, so "a Map of 90,000 entries under the job store of node X" shows as one line.
// The file is read as bytes and its three large arrays are parsed by hand: a worker's snapshot is several hundred MB,
// above what one JSON string may hold.
import { readFileSync } from 'node:fs';

const mib = (n: number) => (n / 2 ** 20).toFixed(1);

interface Snapshot {
  nodeFields: string[];
  nodeTypes: string[];
  edgeFields: string[];
  edgeTypes: string[];
  nodes: Float64Array;
  edges: Uint32Array;
  strings: string[];
}

function section(buf: Buffer, key: string): number {
  const at = buf.indexOf(`"${key}":`);
  if (at < 0) throw new Error(`heap snapshot: no "${key}" section`);
  return buf.indexOf('[', at) + 1;
}

/** Parses a flat array of non-negative integers starting at `from` (after its `[`) until its `]`. */
function ints(buf: Buffer, from: number): number[] {
  const out: number[] = [];
  let n = -1;
  for (let i = from; i < buf.length; i++) {
    const c = buf[i]!;
    if (c >= 48 && c <= 57) n = (n < 0 ? 0 : n * 10) + (c - 48);
    else {
      if (n >= 0) out.push(n);
      n = -1;
      if (c === 93) return out;
    }
  }
  throw new Error('heap snapshot: an array does not end');
}

export function parseSnapshot(buf: Buffer): Snapshot {
  const metaEnd = buf.indexOf('"nodes":');
  const head = buf.subarray(0, metaEnd).toString('utf8').replace(/,\s*$/, '') + '}';
  const meta = (JSON.parse(head) as { snapshot: { meta: Record<string, unknown> } }).snapshot.meta;
  const stringsAt = section(buf, 'strings') - 1;
  // The strings array runs to the last `]` of the file.
  const end = buf.lastIndexOf(']');
  const strings = JSON.parse(buf.subarray(stringsAt, end + 1).toString('utf8')) as string[];
  return {
    nodeFields: meta.node_fields as string[],
    nodeTypes: (meta.node_types as unknown[])[0] as string[],
    edgeFields: meta.edge_fields as string[],
    edgeTypes: (meta.edge_types as unknown[])[0] as string[],
    nodes: Float64Array.from(ints(buf, section(buf, 'nodes'))),
    edges: Uint32Array.from(ints(buf, section(buf, 'edges'))),
    strings,
  };
}

export interface Summary {
  total: number;
  count: number;
  byConstructor: Array<{ name: string; count: number; self: number }>;
  owners: Array<{ name: string; retained: number; self: number; chain: string; holds: string }>;
  under(edge: string, depth?: number, width?: number): string[];
}

export function summarise(s: Snapshot, top = 30): Summary {
  const NF = s.nodeFields.length;
  const EF = s.edgeFields.length;
  const fType = s.nodeFields.indexOf('type');
  const fName = s.nodeFields.indexOf('name');
  const fSize = s.nodeFields.indexOf('self_size');
  const fEdges = s.nodeFields.indexOf('edge_count');
  const eType = s.edgeFields.indexOf('type');
  const eName = s.edgeFields.indexOf('name_or_index');
  const eTo = s.edgeFields.indexOf('to_node');
  const weak = s.edgeTypes.indexOf('weak');
  const shortcut = s.edgeTypes.indexOf('shortcut');
  const N = s.nodes.length / NF;
  const firstEdge = new Uint32Array(N + 1);
  for (let i = 0, e = 0; i < N; i++) {
    firstEdge[i] = e;
    e += s.nodes[i * NF + fEdges]! * EF;
  }
  firstEdge[N] = s.edges.length;
  const typeOf = (i: number) => s.nodeTypes[s.nodes[i * NF + fType]!] ?? '?';
  const label = (i: number): string => {
    const t = typeOf(i);
    const name = s.strings[s.nodes[i * NF + fName]!] ?? '';
    if (t === 'object' || t === 'native' || t === 'closure' || t === 'synthetic') return name || t;
    return `(${t})`;
  };
  const self = (i: number) => s.nodes[i * NF + fSize]!;

  // By constructor: self sizes summed.
  const by = new Map<string, { count: number; self: number }>();
  let total = 0;
  for (let i = 0; i < N; i++) {
    const k = label(i);
    const b = by.get(k) ?? { count: 0, self: 0 };
    b.count++;
    b.self += self(i);
    total += self(i);
    by.set(k, b);
  }

  // Predecessors over strong edges (weak and shortcut edges do not retain).
  const strong = (e: number) => {
    const t = s.edges[e + eType];
    return t !== weak && t !== shortcut;
  };
  const predCount = new Uint32Array(N + 1);
  for (let i = 0; i < N; i++)
    for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e += EF) if (strong(e)) predCount[s.edges[e + eTo]! / NF]!++;
  const predStart = new Uint32Array(N + 1);
  for (let i = 0; i < N; i++) predStart[i + 1] = predStart[i]! + predCount[i]!;
  const preds = new Uint32Array(predStart[N]!);
  const fill = predStart.slice(0, N);
  for (let i = 0; i < N; i++)
    for (let e = firstEdge[i]!; e < firstEdge[i + 1]!; e += EF)
      if (strong(e)) preds[fill[s.edges[e + eTo]! / NF]!++] = i;

  // Post-order from the root (node 0), iteratively.
  const UNSEEN = 0xffffffff;
  const post = new Uint32Array(N).fill(UNSEEN);
  const order: number[] = [];
  const stack: number[] = [0];
  const cursor = new Uint32Array(N);
  const seen = new Uint8Array(N);
  seen[0] = 1;
  for (let i = 0; i < N; i++) cursor[i] = firstEdge[i]!;
  while (stack.length) {
    const v = stack[stack.length - 1]!;
    let pushed = false;
    while (cursor[v]! < firstEdge[v + 1]!) {
      const e = cursor[v]!;
      cursor[v] = e + EF;
      if (!strong(e)) continue;
      const w = s.edges[e + eTo]! / NF;
      if (!seen[w]) {
        seen[w] = 1;
        stack.push(w);
        pushed = true;
        break;
      }
    }
    if (!pushed) {
      stack.pop();
      post[v] = order.length;
      order.push(v);
    }
  }
  // Immediate dominators (Cooper, Harvey, Kennedy), indexed by post-order number.
  const M = order.length;
  const idom = new Uint32Array(M).fill(UNSEEN);
  idom[M - 1] = M - 1;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (a < b) a = idom[a]!;
      while (b < a) b = idom[b]!;
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let p = M - 2; p >= 0; p--) {
      const v = order[p]!;
      let d = UNSEEN;
      for (let k = predStart[v]!; k < predStart[v + 1]!; k++) {
        const q = post[preds[k]!]!;
        if (q === UNSEEN || idom[q] === UNSEEN) continue;
        d = d === UNSEEN ? q : intersect(q, d);
      }
      if (d !== UNSEEN && idom[p] !== d) {
        idom[p] = d;
        changed = true;
      }
    }
  }
  // Retained sizes: each node's self size added to its dominators', children before parents (post-order).
  const retained = new Float64Array(M);
  for (let p = 0; p < M; p++) retained[p] = self(order[p]!);
  for (let p = 0; p < M - 1; p++) retained[idom[p]!]! += retained[p]!;

  // Owners: the largest retainers that are not the root's synthetic groups, and none inside another listed one
  // unless it holds most of that one (so a chain shows the structure that matters, not every wrapper around it).
  const ranked = Array.from({ length: M - 1 }, (_, p) => p)
    .filter((p) => typeOf(order[p]!) !== 'synthetic')
    .sort((a, b) => retained[b]! - retained[a]!);
  const elementType = s.edgeTypes.indexOf('element');
  const hiddenType = s.edgeTypes.indexOf('hidden');
  /** The name of an edge from node `from` to node `to` (a property name, or [index]). */
  const via = (from: number, to: number): string => {
    for (let e = firstEdge[from]!; e < firstEdge[from + 1]!; e += EF)
      if (s.edges[e + eTo]! / NF === to) {
        const t = s.edges[e + eType];
        const n = s.edges[e + eName]!;
        return t === elementType || t === hiddenType ? `[${n}]` : `.${s.strings[n] ?? '?'}`;
      }
    return '';
  };
  /** One named retainer of a node held by several roots (its dominator is the root): `a retainer.edge (…)`. */
  const someRetainer = (v: number): string => {
    let fallback = '';
    for (let k = predStart[v]!; k < predStart[v + 1]!; k++) {
      const r = preds[k]!;
      const name = `${label(r)}${via(r, v)}`;
      if (typeOf(r) !== 'synthetic' && !name.startsWith('(')) return `${name} (one of several)`;
      fallback ||= name;
    }
    return fallback;
  };
  const chain = (p: number) => {
    const names: string[] = [];
    for (let c = p, q = idom[p]!, n = 0; c !== M - 1 && n < 7; c = q, q = idom[q]!, n++)
      names.push(q === M - 1 ? someRetainer(order[c]!) : `${label(order[q]!)}${via(order[q]!, order[c]!)}`);
    return names.filter((x) => x).join(' ← ');
  };
  // The dominator tree's children, for what each owner holds.
  const kids = new Map<number, number[]>();
  for (let p = 0; p < M - 1; p++) {
    const d = idom[p]!;
    if (d === UNSEEN) continue;
    const k = kids.get(d);
    if (k) k.push(p);
    else kids.set(d, [p]);
  }
  // A wrapper holding nearly all of its dominator's size (a Map's table, a closure's context) is not listed apart:
  // its dominator already is, and the list shows that many more distinct owners.
  const listed = new Set<number>();
  const picked: number[] = [];
  for (const p of ranked) {
    if (picked.length >= top) break;
    const d = idom[p]!;
    listed.add(p);
    if (listed.has(d) && retained[p]! > 0.6 * retained[d]!) continue;
    picked.push(p);
  }
  const owners = picked.map((p) => ({
    name: label(order[p]!),
    retained: retained[p]!,
    self: self(order[p]!),
    chain: chain(p),
    holds: (kids.get(p) ?? [])
      .sort((a, b) => retained[b]! - retained[a]!)
      .slice(0, 4)
      .map((k) => `${via(order[p]!, order[k]!)} ${label(order[k]!)} ${mib(retained[k]!)}`)
      .join(', '),
  }));
  const byConstructor = [...by.entries()]
    .map(([name, b]) => ({ name, ...b }))
    .sort((a, b) => b.self - a.self)
    .slice(0, top);
  /** The dominator subtree under the largest object reached by an edge named `edge` (`--under=<edge>`). */
  const under = (edge: string, depth = 3, width = 6): string[] => {
    let best = -1;
    for (let p = 0; p < M - 1; p++) {
      const d = idom[p]!;
      if (d === UNSEEN || d === M - 1) continue;
      if (best >= 0 && retained[p]! <= retained[best]!) continue;
      if (via(order[d]!, order[p]!) === `.${edge}`) best = p;
    }
    const out: string[] = [];
    const walk = (p: number, level: number, name: string) => {
      out.push(`${'  '.repeat(level)}${mib(retained[p]!)} MiB ${name} ${label(order[p]!)}`);
      if (level >= depth) return;
      for (const k of (kids.get(p) ?? []).sort((a, b) => retained[b]! - retained[a]!).slice(0, width))
        walk(k, level + 1, via(order[p]!, order[k]!));
    };
    if (best >= 0) walk(best, 0, `.${edge}`);
    return out;
  };
  return { total, count: N, byConstructor, owners, under };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: tsx bench/src/heap-summary.ts <file.heapsnapshot> [top]');
    process.exit(2);
  }
  const top = Number(process.argv.slice(3).find((a) => !a.startsWith('--')) ?? 30);
  const sum = summarise(parseSnapshot(readFileSync(file)), top);
  for (const a of process.argv.slice(3).filter((x) => x.startsWith('--under=')))
    console.log(sum.under(a.slice('--under='.length), 4, 6).join('\n') + '\n');
  console.log(`${file}: ${sum.count} objects, ${mib(sum.total)} MiB (self sizes)`);
  console.log('\nby constructor (self size):');
  for (const c of sum.byConstructor)
    console.log(`  ${mib(c.self).padStart(8)} MiB  ${String(c.count).padStart(9)}  ${c.name.slice(0, 80)}`);
  console.log('\nlargest retainers (retained MiB, self, dominated by):');
  for (const o of sum.owners)
    console.log(
      `  ${mib(o.retained).padStart(8)} MiB  ${o.name.slice(0, 50)}  ←  ${o.chain.slice(0, 160)}\n` +
        `             holds: ${o.holds.slice(0, 200)}`,
    );
}
