/** The guide file's schema and its loader (data in, a guide or a message naming the field out). */
export { GuideFile, Agency, MaterialRule, Stage, loadGuide, type Guide } from './schema.ts';
/** The offline rules of a dossier and the rules that need the network, with reasons in Chinese or English. */
export { validateDossier, checkNetworkRules, NETWORK_RULES, type ValidateOptions, type KnownNode } from './validate.ts';
/** Reasons and their language. */
export type { Reason, Lang, Bilingual } from './reasons.ts';
/** The review chain: where an application stands and whether a step may be taken. */
export {
  chainView,
  refuseStep,
  refuseList,
  stagesFor,
  type Actor,
  type RecordedStep,
  type ChainView,
  type ChainInput,
  type StepRefusal,
} from './chain.ts';
/** Times as people read them in the guide's zone (Asia/Shanghai). */
export { dateInZone, readableTime } from './time.ts';
/** A sample dossier that meets every offline rule of a guide (for `cpnet application init` and tests). */
export { sampleDossier } from './sample.ts';
/** The 申报书 rendered: Markdown (the editable copy) and self-contained HTML (printed to PDF by the CLI). */
export { renderDossierMarkdown, renderDossierHtml, sectionTitles } from './render.ts';
