import './style.css';
import { parseHash, formatHash } from '../state/deep-link.ts';
import { failoverEpisodes } from '../state/episodes.ts';
import { advance, seek } from '../state/seek.ts';
import { emptyState } from '../state/apply.ts';
import { createSeries } from '../state/series.ts';
import type { Selection, ViewState } from '../state/types.ts';
import { lang, setLang, t } from './i18n.ts';
import type { Store } from './store.ts';
import { createDrawer } from './views/drawer.ts';
import { createHeader } from './views/header.ts';
import { createSide } from './views/side.ts';
import { createTileMap } from './views/tile-map.ts';
import { createTimeline } from './views/timeline.ts';
import { createTopology } from './views/topology.ts';
import { pageClock, pageTime } from './page-clock.ts';
import type { Page } from './page.ts';
import { installProbe } from './probe.ts';
import { createReplayLoader } from './replay-loader.ts';
import { startLive } from './live-start.ts';

// The page's entry: the store, the views, the deep link, the keyboard and the frame loop. Replays load through
// replay-loader.ts, live pages connect through live-start.ts; tests read the page through probe.ts.

const $ = (id: string) => document.getElementById(id)!;
const status = $('status');
const initial = parseHash(location.hash);
setLang(initial.lang ?? (new URLSearchParams(location.search).get('lang') === 'en' ? 'en' : 'zh'));

let dirty = true;
let episodesDirty = false;
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
    if (replay.seekUnloaded(time)) return;
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

const page: Page = {
  store,
  status,
  initialT: initial.t,
  replaceState,
  markDirty: () => {
    dirty = true;
  },
  markEpisodes: () => {
    episodesDirty = true;
  },
};
const replay = createReplayLoader(page);
const probe = installProbe(store, replay);

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
  const seen = location.hash;
  cancelHash = pageClock.setTimeout(() => {
    cancelHash = undefined;
    // The viewer (or a link, or a test) changed the hash meanwhile: its hashchange, perhaps not yet dispatched, brings
    // the store in line with it. Writing the store's older picture now would undo that navigation before it is read.
    if (location.hash !== seen) return;
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

window.addEventListener('hashchange', (e) => {
  // What this navigation set, even if the hash has moved on since; a write of the store's hash still pending is moot.
  cancelHash?.();
  cancelHash = undefined;
  const link = parseHash(new URL(e.newURL).hash);
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
  if (store.playing && store.recording && !replay.seekPending()) {
    const next = replay.playhead(Math.min(store.duration, store.state.t + Math.min(dt, 100) * store.speed));
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
  if (config.mode === 'replay' && config.recording) await replay.load(config.recording, config.recordingIndex);
  else if (config.mode === 'live' && config.liveUrl)
    startLive(page, {
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
