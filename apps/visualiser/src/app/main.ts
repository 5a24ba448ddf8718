import './style.css';
import { io } from 'socket.io-client';
import { parseHash, formatHash } from '../state/deep-link.ts';
import { failoverEpisodes } from '../state/episodes.ts';
import { connectLive } from '../state/live.ts';
import { parseRecording } from '../state/recording.ts';
import { advance, seek } from '../state/seek.ts';
import { emptyState } from '../state/apply.ts';
import { addSample, createSeries, recordingSeries } from '../state/series.ts';
import type { Selection, TimedEvent, ViewState } from '../state/types.ts';
import { lang, setLang, t } from './i18n.ts';
import type { Store } from './store.ts';
import { createDrawer } from './views/drawer.ts';
import { createHeader } from './views/header.ts';
import { createSide } from './views/side.ts';
import { createTileMap } from './views/tile-map.ts';
import { createTimeline } from './views/timeline.ts';
import { createTopology } from './views/topology.ts';
import { pageClock, pageTime } from './page-clock.ts';
import { openChunked, type ChunkedReplay } from './chunked-replay.ts';
import type { ServedIndex } from '../state/chunks.ts';
import { RecordingHeader, RecordingLine } from '@cpnet/protocol';

/** What tests and the benchmark read from the page. */
interface Probe {
  ready: boolean;
  error: string | null;
  mode: string;
  loadStartedMs: number;
  firstRenderMs: number | null;
  frames: number[];
  renderMs: number[];
  t(): number;
  duration(): number;
  events(): readonly TimedEvent[];
  seek(t: number): void;
  /** Bytes of the recording fetched so far when it is read by its index (null: read whole). */
  bytesFetched(): number | null;
  /** Settles when the chunks the last seek or playback asked for are loaded and shown. */
  settled(): Promise<void>;
  play(speed?: number): void;
  pause(): void;
}

const $ = (id: string) => document.getElementById(id)!;
const status = $('status');
const initial = parseHash(location.hash);
setLang(initial.lang ?? (new URLSearchParams(location.search).get('lang') === 'en' ? 'en' : 'zh'));

let dirty = true;
/** Virtual ms between two samples of the live figures (the trends tab). */
const LIVE_SAMPLE_MS = 10_000;

// Views skip redrawing when `version` is unchanged, so a replacing state must carry a newer version than the last.
function replaceState(next: ViewState): void {
  next.version = Math.max(next.version, store.state.version + 1);
  store.state = next;
  dirty = true;
}

const store: Store = {
  mode: 'none',
  recording: null,
  events: [],
  episodes: [],
  series: createSeries(LIVE_SAMPLE_MS),
  state: emptyState(),
  duration: 0,
  playing: false,
  speed: 1,
  selection: initial.selection ?? null,
  filter: {},
  liveUrl: null,
  liveStatus: 'connecting',
  clockSpeed: null,
  seek(time) {
    if (!store.recording) return;
    if (chunked && !chunked.covers(time)) {
      loading = loadWindow(time, true);
      return;
    }
    replaceState(seek(store.recording, time));
  },
  select(selection: Selection | null) {
    store.selection = selection;
    drawer.update(store.state, true);
    dirty = true;
    writeHash();
  },
  setPlaying(playing) {
    if (playing && store.state.t >= store.duration) store.seek(0);
    store.playing = playing;
    dirty = true;
  },
  setSpeed(speed) {
    store.speed = speed;
    dirty = true;
  },
  setFilter(filter) {
    store.filter = filter;
    dirty = true;
  },
  rerender() {
    dirty = true;
  },
};

const probe: Probe = {
  ready: false,
  error: null,
  mode: 'none',
  loadStartedMs: pageTime(),
  firstRenderMs: null,
  frames: [],
  renderMs: [],
  t: () => store.state.t,
  duration: () => store.duration,
  events: () => store.events,
  seek: (time) => store.seek(time),
  bytesFetched: () => (chunked ? chunked.bytes() : null),
  settled: () => loading,
  play: (speed) => {
    if (speed) store.setSpeed(speed);
    store.setPlaying(true);
  },
  pause: () => store.setPlaying(false),
};
(window as unknown as { __cpnetViz: Probe }).__cpnetViz = probe;

const header = createHeader($('header'), store, () => {
  setLang(lang() === 'zh' ? 'en' : 'zh');
  relabelAll();
  writeHash();
});
const topology = createTopology($('topology'), store);
const tileMap = createTileMap($('tilemap'), store);
const side = createSide($('side'), store);
const timeline = createTimeline($('timeline'), store);
const drawer = createDrawer($('drawer'), store);

function relabelAll(): void {
  for (const id of ['topology-title', 'tilemap-title', 'timeline-title']) {
    const key = id.replace('-title', '') as 'topology' | 'tilemap' | 'timeline';
    $(id).textContent = t(key);
  }
  header.relabel();
  side.relabel();
  timeline.relabel();
  renderAll(pageTime(), true);
}

let cancelHash: (() => void) | undefined;
function writeHash(): void {
  cancelHash?.();
  cancelHash = pageClock.setTimeout(() => {
    const hash = formatHash({
      ...(store.mode === 'replay' ? { t: store.state.t } : {}),
      ...(store.selection ? { selection: store.selection } : {}),
      ...(lang() === 'en' ? { lang: 'en' as const } : {}),
    });
    if (hash !== location.hash)
      history.replaceState(null, '', hash === '#' ? location.pathname + location.search : hash);
  }, 150);
}

// Escape closes the drawer, wherever the focus is (a control inside it included). Enter or Space on anything
// focusable that is not a native control (list rows, tiles, nodes, table rows) does what a click does.
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && store.selection) {
    e.preventDefault();
    store.select(null);
    return;
  }
  const target = e.target as Element | null;
  if ((e.key === 'Enter' || e.key === ' ') && target?.matches('[tabindex="0"]:not(button, input, select, a)')) {
    e.preventDefault();
    target.dispatchEvent(new MouseEvent('click', { bubbles: true }));
  }
});

window.addEventListener('hashchange', () => {
  const link = parseHash(location.hash);
  if (link.t !== undefined) store.seek(link.t);
  store.selection = link.selection ?? null;
  if (link.lang && link.lang !== lang()) {
    setLang(link.lang);
    relabelAll();
  }
  drawer.update(store.state, true);
  dirty = true;
});

let slowAt = 0;
let episodesDirty = false;
function renderAll(now: number, force = false): void {
  const started = pageTime();
  if (episodesDirty && (force || now - slowAt > 250)) {
    episodesDirty = false;
    store.episodes = failoverEpisodes(store.events);
  }
  topology.update(store.state, now, force);
  tileMap.update(store.state, now, force);
  header.update();
  timeline.update(store.state, force || now - slowAt > 250);
  // DOM-heavy panels refresh four times a second at most.
  if (force || now - slowAt > 250) {
    slowAt = now;
    side.update(store.state, force);
    drawer.update(store.state, force);
  }
  probe.renderMs.push(pageTime() - started);
}

let last = pageTime();
function frame(now: number): void {
  const dt = now - last;
  last = now;
  probe.frames.push(dt);
  if (probe.frames.length > 5000) probe.frames.splice(0, 1000);
  if (probe.renderMs.length > 5000) probe.renderMs.splice(0, 1000);
  if (store.playing && store.recording && !seekPending) {
    let next = Math.min(store.duration, store.state.t + Math.min(dt, 100) * store.speed);
    if (chunked) next = chunkedPlayhead(chunked, next);
    replaceState(advance(store.recording, store.state, next));
    if (next >= store.duration) store.playing = false;
    dirty = true;
    if (Math.round(next / 1000) !== Math.round((next - dt * store.speed) / 1000)) writeHash();
  }
  if (dirty || store.mode !== 'none') {
    renderAll(now, false);
    dirty = false;
  }
  requestAnimationFrame(frame);
}

/** The recording read by its index, chunk by chunk (null when read whole). */
let chunked: ChunkedReplay | null = null;
let loading: Promise<void> = Promise.resolve();
let appending = false;

// Shows the loaded window: views read the window's events; a state whose cursor no longer fits is re-sought.
function showWindow(time: number, reseek: boolean): void {
  if (!chunked) return;
  const rec = chunked.recording();
  store.recording = rec;
  store.events = rec.events;
  store.episodes = failoverEpisodes(rec.events);
  store.series = chunked.series();
  if (reseek) replaceState(seek(rec, time));
  dirty = true;
}

/** Counts seeks into unloaded parts: only the latest one's chunk is shown. */
let seekGeneration = 0;
/** While a seek waits for its chunk, playback does not move (it would play the old window). */
let seekPending = false;

async function loadWindow(time: number, reseek: boolean): Promise<void> {
  if (!chunked) return;
  const generation = ++seekGeneration;
  status.textContent = t('loading');
  seekPending = true;
  try {
    const r = await chunked.ensure(time, { stale: () => generation !== seekGeneration });
    if (generation !== seekGeneration) return;
    seekPending = false;
    if (r.changed) showWindow(time, reseek || r.trimmed);
    const skipped = store.recording?.skipped.length ?? 0;
    status.textContent = skipped ? `${skipped} ${t('skipped')}` : '';
  } catch (e) {
    if (generation === seekGeneration) seekPending = false;
    status.textContent = `${t('error')}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/**
 * Playback stays inside the loaded window (events at the next chunk's first snapshot belong to that chunk); the next
 * chunk is fetched while the playhead is in the second half of the last one, so playback rarely waits.
 */
function chunkedPlayhead(c: ChunkedReplay, next: number): number {
  const rec = store.recording as ReturnType<ChunkedReplay['recording']>;
  const until = rec.until;
  if (Number.isFinite(until) && !appending && next > rec.from + (until - rec.from) / 2) {
    appending = true;
    const at = store.state.t;
    loading = c.ensure(until, { appendOnly: true }).then(
      (r) => {
        appending = false;
        if (r.changed) showWindow(store.state.t, r.trimmed || store.state.t < at);
      },
      (e: unknown) => {
        appending = false;
        store.playing = false;
        status.textContent = `${t('error')}: ${e instanceof Error ? e.message : String(e)}`;
      },
    );
  }
  return Math.min(next, until - 1);
}

async function loadIndexed(url: string, indexUrl: string): Promise<boolean> {
  const res = await fetch(indexUrl);
  if (!res.ok) return false;
  const body = (await res.json()) as ServedIndex & { headerEnd: number };
  // The header and the index are validated like every line; the chunks are validated as they arrive.
  const header = RecordingHeader.safeParse(body.header);
  const index = RecordingLine.safeParse(body.index);
  if (!header.success || !index.success || index.data.kind !== 'index' || !Number.isInteger(body.headerEnd))
    throw new Error(`${indexUrl}: not a recording header and index`);
  const served = { ...body, header: header.data, index: index.data };
  chunked = openChunked(url, served);
  store.mode = 'replay';
  store.duration = served.index.t;
  await loadWindow(Math.min(initial.t ?? 0, served.index.t), true);
  return true;
}

async function loadReplay(url: string, indexUrl?: string): Promise<void> {
  status.textContent = t('loading');
  if (indexUrl && (await loadIndexed(url, indexUrl))) return;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  const text = await res.text();
  const parsed = parseRecording(text);
  if (!parsed.ok) throw new Error(parsed.error);
  const rec = parsed.value;
  store.mode = 'replay';
  store.recording = rec;
  store.events = rec.events;
  store.episodes = failoverEpisodes(rec.events);
  store.series = recordingSeries(rec);
  store.duration = rec.duration;
  replaceState(seek(rec, Math.min(initial.t ?? 0, rec.duration)));
  status.textContent = rec.skipped.length ? `${rec.skipped.length} ${t('skipped')}` : '';
  if (rec.skipped.length)
    pageClock.setTimeout(() => {
      status.textContent = '';
    }, 4000);
}

/** Where the live page connects and what its server offers (config.json, or ?live=&token= without a server). */
interface LiveConfig {
  url: string;
  token: string | undefined;
  renewal: string | undefined;
  clock: { origin: string; speed: number | 'max' } | undefined;
  /** Served by cpnet viz / cpnet demo (it forwards snapshots and selections). */
  served: boolean;
}

function startLive({ url, token, renewal, clock, served }: LiveConfig): void {
  store.mode = 'live';
  store.clockSpeed = clock?.speed ?? null;
  store.liveUrl = url;
  // The serving process renews the viewer token with its stated credential (cpnet demo, cpnet viz --operator).
  const renew = renewal
    ? async () => {
        const res = await fetch(renewal, { method: 'POST' });
        const body = (await res.json()) as { token?: string; renewInMs?: number; error?: { message?: string } };
        return res.ok && body.token
          ? { token: body.token, renewInMs: body.renewInMs ?? 60_000 }
          : { error: body.error?.message ?? `HTTP ${res.status}` };
      }
    : undefined;
  const source = connectLive(
    {
      url,
      ...(token ? { token } : {}),
      ...(renew ? { renew } : {}),
      connect: (u, o) => io(u, o),
      ...(clock ? { origin: Date.parse(clock.origin) } : {}),
      now: () => pageTime(),
      clock: pageClock,
    },
    {
      onState: (state) => {
        if (state === store.state) state.version++;
        else replaceState(state);
        store.duration = Math.max(store.duration, state.t);
        addSample(store.series, state);
        dirty = true;
      },
      // A late visitor is told that what it sees before its arrival is the node's recent history.
      onHistory: (h) => {
        const said =
          `${t('historyLoaded')} ${Math.round(h.windowMs / 60_000)} ${t('historyMinutes')}` +
          (h.episodes.length ? ` · ${t('openEpisodes')} ${h.episodes.length}` : '');
        status.textContent = said;
        // Said for a few seconds (wall), then out of the way of the views.
        pageClock.setTimeout(() => {
          if (status.textContent === said) status.textContent = '';
        }, 6000);
        episodesDirty = true;
      },
      onEvent: (e) => {
        // Episodes change only with health and job events; they are recomputed with the slow panels, not per event.
        if (e.event.type.endsWith('.health') || e.event.type.startsWith('job.')) episodesDirty = true;
        store.duration = Math.max(store.duration, e.t);
      },
      onStatus: (s, detail) => {
        store.liveStatus = s;
        status.textContent =
          s === 'error'
            ? `${t('error')}: ${detail ?? ''}`
            : s === 'unauthorised'
              ? `${t('unauthorised')}: ${detail ?? ''}`
              : '';
        dirty = true;
      },
    },
  );
  store.events = source.events;
  // Served by cpnet viz / cpnet demo: the node's current picture every SNAPSHOT_EVERY_MS (wall), through the server.
  if (served) {
    const poll = async () => {
      try {
        const res = await fetch('snapshot');
        if (res.ok) source.refresh(await res.json());
      } catch {
        /* the next poll tries again; the stream's status says whether the node is reachable */
      }
      pageClock.setTimeout(() => void poll(), SNAPSHOT_EVERY_MS);
    };
    pageClock.setTimeout(() => void poll(), SNAPSHOT_EVERY_MS);
  }
}

/** Wall ms between two snapshot refreshes in live mode. */
const SNAPSHOT_EVERY_MS = 5_000;

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  let config: {
    mode?: string;
    recording?: string;
    recordingIndex?: string;
    liveUrl?: string;
    token?: string | null;
    renewal?: string;
    clock?: { origin: string; speed: number | 'max' };
  } = {};
  if (q.get('replay')) config = { mode: 'replay', recording: q.get('replay')! };
  else if (q.get('live')) config = { mode: 'live', liveUrl: q.get('live')!, token: q.get('token') };
  else {
    try {
      const res = await fetch('config.json');
      if (res.ok) config = (await res.json()) as typeof config;
    } catch {
      /* no server config: the Vite dev server */
    }
  }
  probe.mode = config.mode ?? 'none';
  if (config.mode === 'replay' && config.recording) await loadReplay(config.recording, config.recordingIndex);
  else if (config.mode === 'live' && config.liveUrl)
    startLive({
      url: config.liveUrl,
      token: config.token ?? undefined,
      renewal: config.renewal,
      clock: config.clock,
      served: !q.get('live'),
    });
  else status.textContent = `${t('none')} — cpnet viz --replay <file> | --live <url>`;
  renderAll(pageTime(), true);
  // The first complete render: every view drawn once with the loaded state.
  probe.firstRenderMs = pageTime() - probe.loadStartedMs;
  probe.ready = true;
  document.body.dataset.ready = 'true';
}

main().catch((e: unknown) => {
  probe.error = e instanceof Error ? e.message : String(e);
  status.textContent = `${t('error')}: ${probe.error}`;
  document.body.dataset.ready = 'error';
});
requestAnimationFrame(frame);
