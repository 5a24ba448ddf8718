import type { Selection } from './types.ts';

/** What a deep link carries: virtual time, selection, language. */
interface DeepLink {
  t?: number;
  selection?: Selection;
  lang?: 'zh' | 'en';
}

const KINDS = new Set(['node', 'cluster', 'job', 'identifier', 'province']);

/** Parses `#t=12000&sel=node:CPN.51&lang=en` (unknown parts are ignored). */
export function parseHash(hash: string): DeepLink {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const out: DeepLink = {};
  const t = Number(params.get('t'));
  if (params.has('t') && Number.isFinite(t) && t >= 0) out.t = t;
  const sel = params.get('sel');
  if (sel) {
    const colon = sel.indexOf(':');
    const kind = sel.slice(0, colon);
    const id = sel.slice(colon + 1);
    if (colon > 0 && KINDS.has(kind) && id) out.selection = { kind, id } as Selection;
  }
  const lang = params.get('lang');
  if (lang === 'zh' || lang === 'en') out.lang = lang;
  return out;
}

/** Formats a deep link as a URL hash. */
export function formatHash(link: DeepLink): string {
  const params = new URLSearchParams();
  if (link.t !== undefined) params.set('t', String(Math.round(link.t)));
  if (link.selection) params.set('sel', `${link.selection.kind}:${link.selection.id}`);
  if (link.lang) params.set('lang', link.lang);
  return `#${params.toString().replaceAll('%3A', ':').replaceAll('%2F', '/')}`;
}
