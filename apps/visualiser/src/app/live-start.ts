import { io } from 'socket.io-client';
import { connectLive } from '../state/live.ts';
import { addSample } from '../state/series.ts';
import { t } from './i18n.ts';
import type { Page } from './page.ts';
import { pageClock, pageTime } from './page-clock.ts';

/** Where the live page connects and what its server offers (config.json, or ?live=&token= without a server). */
export interface LiveConfig {
  url: string;
  token: string | undefined;
  renewal: string | undefined;
  clock: { origin: string; speed: number | 'max' } | undefined;
  /** Served by cpnet viz / cpnet demo (it forwards snapshots and selections). */
  served: boolean;
}

/** Wall ms between two snapshot refreshes in live mode. */
const SNAPSHOT_EVERY_MS = 5_000;

/** Connects the page to a live node: its state and events into the store, its connection state on the status line. */
export function startLive(page: Page, { url, token, renewal, clock, served }: LiveConfig): void {
  const { store, status } = page;
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
        else page.replaceState(state);
        store.duration = Math.max(store.duration, state.t);
        addSample(store.series, state);
        page.markDirty();
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
        page.markEpisodes();
      },
      onEvent: (e) => {
        // Episodes change only with health and job events; they are recomputed with the slow panels, not per event.
        if (e.event.type.endsWith('.health') || e.event.type.startsWith('job.')) page.markEpisodes();
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
        page.markDirty();
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
