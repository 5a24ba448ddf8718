/** A language of the reasons: Chinese by default, English on request. */
export type Lang = 'zh' | 'en';

/** One broken rule: its id, the field it is about and why, in the language asked for. */
export interface Reason {
  readonly rule: string;
  readonly field: string;
  readonly message: string;
}

/** A message in both languages; `pick` chooses one. */
export interface Bilingual {
  readonly zh: string;
  readonly en: string;
}

/** Collects reasons in one language. */
export class Reasons {
  readonly items: Reason[] = [];
  constructor(private readonly lang: Lang) {}
  /** Records a broken rule. */
  add(rule: string, field: string, text: Bilingual): void {
    this.items.push({ rule, field, message: text[this.lang] });
  }
}
