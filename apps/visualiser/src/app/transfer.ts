import { lang } from './i18n.ts';

/** A candidate's data transfer as the nodes send it in a job's explanation (`DataTransfer` of @cpnet/protocol). */
export interface TransferView {
  readonly movedGib: number;
  readonly yuan: number;
  readonly secondsToStart: number;
}

/** The transfer of an explanation entry, when it carries a well-formed one. */
export function transferOf(value: unknown): TransferView | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const n = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  return n(v.movedGib) && n(v.yuan) && n(v.secondsToStart)
    ? { movedGib: v.movedGib as number, yuan: v.yuan as number, secondsToStart: v.secondsToStart as number }
    : null;
}

const gib = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en') : String(Math.round(x * 10) / 10));

function wait(s: number, l: 'zh' | 'en'): string {
  if (s < 120) return l === 'zh' ? `${Math.round(s)} 秒` : `${Math.round(s)} s`;
  if (s < 3600) return l === 'zh' ? `${Math.round(s / 60)} 分钟` : `${Math.round(s / 60)} min`;
  return l === 'zh' ? `${(s / 3600).toFixed(1)} 小时` : `${(s / 3600).toFixed(1)} h`;
}

/**
 * One line for a candidate's data transfer — GiB moved, 元, and how long before the job could start there — in the
 * page's language (Chinese by default): “迁移 4,104 GiB · 1,231.20 元 · 1.9 小时后可开始”, or “数据不出省” when nothing moves.
 */
export function transferText(t: TransferView, l: 'zh' | 'en' = lang()): string {
  if (t.movedGib === 0 && t.yuan === 0) return l === 'zh' ? '数据不出省 · 0 元' : 'no data moved · 0 元';
  const yuan = t.yuan.toLocaleString('en', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  return l === 'zh'
    ? `迁移 ${gib(t.movedGib)} GiB · ${yuan} 元 · ${wait(t.secondsToStart, l)}后可开始`
    : `${gib(t.movedGib)} GiB moved · ${yuan} 元 · starts after ${wait(t.secondsToStart, l)}`;
}
