import { describeIdentifier, parseIdentifier } from '@cpnet/identifier';
import { provinceStats } from '../../state/aggregate.ts';
import { TILES } from '../../state/tile-layout.ts';
import type { Selection, TimedEvent, ViewState } from '../../state/types.ts';
import { lang, provinceLabel, t, te, tv, type Key } from '../i18n.ts';
import { reasonText } from '../reasons.ts';
import { transferOf, transferText } from '../transfer.ts';
import { el, formatT, selectionFor, type Store } from '../store.ts';

function dl(rows: Array<[Key | string, unknown]>): HTMLElement {
  const d = el('dl');
  for (const [k, v] of rows) {
    if (v === undefined) continue;
    let label = k;
    try {
      label = t(k as Key) ?? k;
    } catch {
      /* a raw label */
    }
    d.append(el('dt', {}, label), el('dd', {}, v === null ? '–' : String(v)));
  }
  return d;
}

function linkList(items: Array<{ id: string; text: string }>, store: Store, limit: number): HTMLElement {
  const ul = el('ul', { class: 'list' });
  const render = (n: number) => {
    ul.replaceChildren();
    for (const item of items.slice(0, n)) {
      const li = el('li', { tabindex: '0' });
      li.append(el('span', { class: 'code' }, item.id), el('span', { class: 'muted' }, item.text));
      li.addEventListener('click', () => store.select(selectionFor(item.id, store.state)));
      ul.append(li);
    }
    if (items.length > n) {
      const more = el('li', { tabindex: '0' }, `… ${items.length - n} ${t('more')}`);
      more.addEventListener('click', () => render(n + 200));
      ul.append(more);
    }
  };
  render(limit);
  return ul;
}

function eventsAbout(store: Store, matches: (e: TimedEvent) => boolean, limit = 15): TimedEvent[] {
  const out: TimedEvent[] = [];
  const end = store.mode === 'replay' ? store.state.cursor : store.events.length;
  for (let i = end - 1; i >= 0 && out.length < limit; i--) if (matches(store.events[i]!)) out.push(store.events[i]!);
  return out;
}

/** A node's reason, translated when its pattern is known; otherwise as sent, marked as the node's wording. */
function reason(text: string): HTMLElement {
  const r = reasonText(text);
  return el('span', r.wire ? { class: 'wire', lang: 'en', title: t('asSent') } : { title: text }, r.text);
}

/** The fields of an event's data that the drawer lays out (the raw view has all of them). */
const EVENT_FIELDS: ReadonlyArray<[string, Key, 'value' | 'code' | 'reason']> = [
  ['health', 'health', 'value'],
  ['state', 'state', 'value'],
  ['cause', 'cause', 'value'],
  ['cluster', 'cluster', 'code'],
  ['province', 'to', 'code'],
  ['reason', 'reason', 'reason'],
];

function eventList(events: TimedEvent[]): HTMLElement {
  const ul = el('ul', { class: 'list event-fields' });
  for (const e of events) {
    const li = el('li', { class: `sev-${e.event.severity}` });
    li.append(
      el('span', { class: 'time' }, formatT(e.t)),
      el('span', { title: e.event.type }, te(e.event.type)),
      el('span', { class: 'code' }, e.event.subject ?? e.event.node),
    );
    const d = e.event.data;
    for (const [field, key, kind] of EVENT_FIELDS) {
      const v = d[field];
      if (typeof v !== 'string' || v === '') continue;
      const f = el('span', { class: 'field' }, `${t(key)}: `);
      f.append(kind === 'reason' ? reason(v) : el('span', kind === 'code' ? { class: 'code' } : {}, tv(v)));
      li.append(f);
    }
    ul.append(li);
  }
  return ul;
}

/**
 * A job's scheduling explanation as the nodes send it (`JobExplanation`: the chosen cluster — or, above its owner,
 * subtree — and the candidates not taken with their reasons); older shapes (summary, candidates, excluded) too.
 */
function explanation(value: unknown, store: Store, primary = true): HTMLElement {
  // Element ids only on the first explanation shown (the owner's): the ones at other nodes repeat its parts.
  const id = (name: string): Record<string, string> => (primary ? { id: name } : {});
  const box = el('div', id('job-explanation'));
  if (value === undefined) return (box.append(el('div', { class: 'muted' }, t('noExplanation'))), box);
  const v = value as {
    chosen?: unknown;
    rejected?: unknown;
    summary?: unknown;
    candidates?: unknown;
    excluded?: unknown;
  };
  let shown = false;
  if (typeof v.chosen === 'string' || v.chosen === null) {
    shown = true;
    const chosen = el('div', { class: 'chosen', ...id('job-chosen') });
    chosen.append(el('span', { class: 'muted' }, `${t('chosen')}: `));
    const c = el('span', { class: 'code link', tabindex: '0' }, v.chosen ?? '–');
    if (v.chosen) c.addEventListener('click', () => store.select(selectionFor(v.chosen as string, store.state)));
    chosen.append(c);
    // Data has weight: what moving the job's data to the chosen cluster costs (jobs that name input data).
    const moved = transferOf((value as { transfer?: unknown }).transfer);
    if (moved)
      chosen.append(el('span', { class: 'muted transfer', ...id('job-chosen-transfer') }, ` · ${transferText(moved)}`));
    box.append(chosen);
  }
  if (Array.isArray(v.rejected)) {
    shown = true;
    const table = el('table', id('job-rejected'));
    const h = el('tr');
    const rows = v.rejected as Array<Record<string, unknown>>;
    // A transfer column when the job names input data: GiB moved, 元 and the wait before it could start there.
    const withTransfer = rows.some((r) => transferOf(r.transfer) !== null);
    for (const k of [t('notChosen'), t('reason'), ...(withTransfer ? [t('transfer')] : [])]) h.append(el('th', {}, k));
    table.append(h);
    for (const r of rows) {
      const tr = el('tr');
      const target = String(r.target ?? '');
      tr.append(el('td', { class: 'code' }, reasonText(target).text));
      const why = el('td');
      why.append(reason(String(r.reason ?? '')));
      tr.append(why);
      if (withTransfer) {
        const moved = transferOf(r.transfer);
        tr.append(el('td', { class: 'transfer' }, moved ? transferText(moved) : '–'));
      }
      table.append(tr);
    }
    box.append(el('h3', {}, `${t('whyNot')} (${(v.rejected as unknown[]).length})`), table);
  }
  if (typeof v.summary === 'string') {
    shown = true;
    box.append(el('p', {}, v.summary));
  }
  if (Array.isArray(v.candidates)) {
    shown = true;
    const table = el('table');
    const h = el('tr');
    for (const k of [t('rank'), t('cluster'), t('province'), t('score')]) h.append(el('th', {}, k));
    table.append(h);
    for (const c of v.candidates as Array<Record<string, unknown>>) {
      const tr = el('tr');
      tr.append(
        el('td', {}, String(c.rank ?? '')),
        el('td', { class: 'code' }, String(c.cluster ?? '')),
        el('td', {}, String(c.province ?? '')),
        el('td', { class: 'num' }, String(c.score ?? '')),
      );
      table.append(tr);
    }
    box.append(el('h3', {}, t('candidates')), table);
  }
  if (Array.isArray(v.excluded) && v.excluded.length) {
    shown = true;
    const ul = el('ul', { class: 'list' });
    for (const x of v.excluded as Array<Record<string, unknown>>) {
      const li = el('li', {}, `${String(x.cluster ?? x.target ?? '')} — `);
      li.append(reason(String(x.reason ?? x.constraint ?? '')));
      ul.append(li);
    }
    box.append(el('h3', {}, t('excluded')), ul);
  }
  if (!shown) box.append(el('div', { class: 'muted' }, t('unknownShape')));
  return box;
}

/** The details drawer for a node, cluster, job, identifier or province. */
export function createDrawer(root: HTMLElement, store: Store) {
  let shownKey = '';
  let shownVersion = -1;
  let raw = false;

  /** The selection as the state and the events hold it, for the raw view. */
  function rawOf(sel: Selection, state: ViewState): unknown {
    const entity =
      sel.kind === 'node'
        ? state.nodes.get(sel.id)
        : sel.kind === 'cluster'
          ? state.clusters.get(sel.id)
          : sel.kind === 'job'
            ? state.jobs.get(sel.id)
            : undefined;
    const events = eventsAbout(store, (e) => e.event.subject === sel.id, 20).map((e) => e.event);
    return { selection: sel, ...(entity ? { state: entity } : {}), events };
  }

  function body(sel: Selection, state: ViewState): HTMLElement[] {
    const out: HTMLElement[] = [];
    if (sel.kind === 'node') {
      const n = state.nodes.get(sel.id);
      out.push(el('div', { class: 'muted' }, n ? t(`role_${n.role}` as Key) : t('node')));
      if (n)
        out.push(
          dl([
            ['code', n.code],
            ['name', n.name],
            ['role', tv(n.role)],
            ['parent', n.parent],
            ['province', n.province],
            ['industry', n.industry],
            ['lifecycle', tv(n.lifecycle)],
            ['health', tv(n.health)],
            ['url', n.url],
          ]),
        );
      const children = [...state.nodes.values()]
        .filter((c) => c.parent === sel.id)
        .sort((a, b) => a.code.localeCompare(b.code));
      if (children.length)
        out.push(
          el('h3', {}, `${t('children')} (${children.length})`),
          linkList(
            children.map((c) => ({ id: c.code, text: `${c.name} · ${tv(c.lifecycle)} · ${tv(c.health)}` })),
            store,
            50,
          ),
        );
      const clusters = [...state.clusters.values()].filter((c) => c.node === sel.id);
      out.push(
        el('h3', {}, `${t('clusters')} (${clusters.length})`),
        linkList(
          clusters.map((c) => ({
            id: c.id,
            text: `${c.name} · ${Math.round(c.utilisation * 100)}% · ${tv(c.health)}`,
          })),
          store,
          50,
        ),
      );
      const ids = new Set(clusters.map((c) => c.id));
      const jobs = [...state.jobs.values()].filter((j) => j.node === sel.id || (j.cluster && ids.has(j.cluster)));
      out.push(
        el('h3', {}, `${t('jobs')} (${jobs.length})`),
        linkList(
          jobs.map((j) => ({ id: j.id, text: `${tv(j.state)} ${j.from ?? '?'}→${j.to ?? '?'}` })),
          store,
          30,
        ),
      );
      out.push(
        el('h3', {}, t('eventsAbout')),
        eventList(eventsAbout(store, (e) => e.event.subject === sel.id || e.event.data.target === sel.id)),
      );
    } else if (sel.kind === 'cluster') {
      const c = state.clusters.get(sel.id);
      if (c)
        out.push(
          dl([
            ['name', c.name],
            ['node', c.node],
            ['provider', c.provider],
            ['province', c.province],
            ['lifecycle', tv(c.lifecycle)],
            ['health', tv(c.health)],
            ['utilisation', `${Math.round(c.utilisation * 100)}%`],
            ['cores', c.cpuCores],
            ['coresFree', c.cpuAvailable],
            ['accelerators', c.accelerators],
            ['acceleratorsFree', c.acceleratorsAvailable],
            ['price', c.pricePerCoreHourYuan],
            ['green', `${Math.round(c.greenShare * 100)}%`],
          ]),
        );
      const jobs = [...state.jobs.values()].filter((j) => j.cluster === sel.id);
      out.push(
        el('h3', {}, `${t('jobs')} (${jobs.length})`),
        linkList(
          jobs.map((j) => ({ id: j.id, text: `${tv(j.state)} ${j.from ?? '?'}→${j.to ?? '?'}` })),
          store,
          30,
        ),
      );
      out.push(
        el('h3', {}, t('eventsAbout')),
        eventList(eventsAbout(store, (e) => e.event.subject === sel.id || e.event.data.cluster === sel.id)),
      );
    } else if (sel.kind === 'job') {
      const j = state.jobs.get(sel.id);
      const history = eventsAbout(store, (e) => e.event.subject === sel.id, 50);
      const last = history[0]?.event;
      out.push(
        dl([
          ['state', j ? tv(j.state) : last ? te(last.type) : '–'],
          ['tenant', j?.tenant ?? last?.data.tenant],
          ['origin', j?.origin ?? last?.data.origin],
          ['from', j?.from ?? last?.data.originProvince ?? last?.data.from],
          ['to', j?.to ?? last?.data.province ?? last?.data.to],
          ['cluster', j?.cluster ?? last?.data.cluster],
          ['owner', j?.owner ?? last?.data.owner],
        ]),
      );
      // The owner's explanation names clusters; the ones above it name subtrees: the cluster-level one first.
      const explained = history.filter((e) => e.event.data.explanation !== undefined);
      const owner = explained.find((e) => {
        const c = (e.event.data.explanation as { chosen?: unknown }).chosen;
        return typeof c === 'string' && c.includes('/CL-');
      });
      const expl = owner?.event.data.explanation ?? j?.explanation ?? explained[0]?.event.data.explanation;
      out.push(el('h3', {}, t('explanation')), explanation(expl, store));
      for (const e of explained)
        if (e !== owner && e.event.data.explanation !== expl)
          out.push(
            el('h3', {}, `${t('explanationAt')} ${e.event.node}`),
            explanation(e.event.data.explanation, store, false),
          );
      out.push(el('h3', {}, t('eventsAbout')), eventList(history));
    } else if (sel.kind === 'identifier') {
      const parsed = parseIdentifier(sel.id);
      if (parsed.ok) {
        const d = describeIdentifier(parsed.value);
        out.push(
          dl([
            ['prefix', d.prefix],
            ['region', d.region ? `${d.region.code} ${d.region.name}` : null],
            ['industry', d.industry ? `${d.industry.code} ${d.industry.name ?? ''}` : null],
            ['kind', d.kind],
            ['serial', d.serial],
            ['check', d.check],
          ]),
        );
      } else out.push(el('div', { class: 'notice' }, `${parsed.error.segment}: ${parsed.error.message}`));
      out.push(el('h3', {}, t('eventsAbout')), eventList(eventsAbout(store, (e) => e.event.subject === sel.id)));
    } else {
      const tile = TILES.find((x) => x.code === sel.id);
      const s = provinceStats(state).get(sel.id);
      out.push(
        dl([
          ['code', sel.id],
          ['name', tile ? (lang() === 'zh' ? tile.name : tile.nameEn) : sel.id],
          ['nodesCount', s?.nodes ?? 0],
          ['clustersCount', s?.clusters ?? 0],
          ['utilisation', s ? `${Math.round(s.meanUtilisation * 100)}%` : '–'],
          ['price', s ? s.meanPrice.toFixed(3) : '–'],
        ]),
      );
      const nodes = [...state.nodes.values()].filter((n) => n.province === sel.id);
      out.push(
        el('h3', {}, t('nodes')),
        linkList(
          nodes.map((n) => ({ id: n.code, text: `${n.name} · ${tv(n.health)}` })),
          store,
          50,
        ),
      );
      const clusters = [...state.clusters.values()].filter((c) => c.province === sel.id);
      out.push(
        el('h3', {}, `${t('clusters')} (${clusters.length})`),
        linkList(
          clusters.map((c) => ({ id: c.id, text: `${c.name} · ${tv(c.health)}` })),
          store,
          30,
        ),
      );
    }
    return out;
  }

  function titleOf(sel: Selection): string {
    if (sel.kind === 'province') {
      const tile = TILES.find((x) => x.code === sel.id);
      return tile ? `${sel.id} ${provinceLabel(tile)}` : sel.id;
    }
    const n = sel.kind === 'node' ? store.state.nodes.get(sel.id) : undefined;
    return n ? `${n.code} ${n.name}` : sel.id;
  }

  return {
    update(state: ViewState, force = false): void {
      const sel = store.selection;
      if (!sel) {
        root.hidden = true;
        shownKey = '';
        return;
      }
      const key = `${sel.kind}:${sel.id}`;
      // Refresh at most when the state changed, and not every frame during playback (main.ts throttles).
      if (!force && key === shownKey && state.version === shownVersion) return;
      if (key !== shownKey) raw = false;
      shownKey = key;
      shownVersion = state.version;
      root.hidden = false;
      const scroll = root.scrollTop;
      // Below the side column's tabs, so that the drawer never hides them.
      const tabs = document.querySelector('#side .tabs');
      root.style.top = `${Math.round(tabs ? tabs.getBoundingClientRect().bottom + 4 : 0)}px`;
      const close = el('button', { class: 'close', 'aria-label': t('close'), title: t('closeHint') }, '×');
      close.addEventListener('click', () => store.select(null));
      const rawButton = el('button', { class: 'raw', id: 'drawer-raw', 'aria-pressed': String(raw) }, t('rawView'));
      rawButton.addEventListener('click', () => {
        raw = !raw;
        shownVersion = -1;
        this.update(store.state, true);
        (root.querySelector('#drawer-raw') as HTMLElement | null)?.focus();
      });
      root.replaceChildren(
        close,
        rawButton,
        el(
          'div',
          { class: 'muted' },
          sel.kind === 'province' || sel.kind === 'identifier' ? t(sel.kind) : tv(sel.kind),
        ),
        el('h2', { id: 'drawer-title' }, titleOf(sel)),
        ...(raw
          ? [el('pre', { class: 'raw-json', lang: 'en' }, JSON.stringify(rawOf(sel, state), null, 2))]
          : body(sel, state)),
      );
      root.scrollTop = scroll;
    },
  };
}
