/** Protocol version and the major-version check. */
export {
  PROTOCOL_VERSION,
  PROTOCOL_HEADER,
  MINOR_SKEW,
  VERSION_SKEW,
  checkProtocolVersion,
  CAPABILITIES,
  capabilitiesOf,
  commonCapabilities,
  hasCapability,
  type Capability,
  type VersionVerdict,
} from './version.ts';
/** Error codes with their HTTP statuses and CLI exit codes. */
export {
  ERROR_CODES,
  EXIT,
  errorBody,
  httpStatus,
  exitCode,
  codeForStatus,
  type ErrorCode,
  type ErrorBody,
} from './errors.ts';
/** The one data-residency predicate shared by the scheduler and the policy. */
export { residencyVerdict, OUTSIDE_MAINLAND, type DataResidency, type ResidencyVerdict } from './residency.ts';
/** Units of the wire contract. */
export { UNITS, PRECISIONS, formatTime, MIN_REGISTERED_CAPITAL_WAN_YUAN } from './units.ts';
/** Shared field schemas: identifiers, prefixes, credit codes, times, the strict-message rule with `ext`. */
export * from './primitives.ts';
/** Node info, ND record data, emergency actions. */
export * from './node.ts';
/** Applications, reviews, delegations, grants, joint-debugging results. */
export * from './onboarding.ts';
/** Certificate renewal by the parent (same key, a new validity period). */
export * from './certificates.ts';
/** Application dossiers (申报书, 建设方案, attachments) and the guide's review-chain steps. */
export * from './dossier.ts';
/** Identifier records, registration, resolution answers. */
export * from './identifiers.ts';
/** Providers, clusters, K1/K2 capacity reports, summaries, market. */
export * from './resources.ts';
/** Task templates, selections, jobs, metering. */
export * from './scheduling.ts';
/** Node-to-node scheduling: placements, relayed selections, job updates and cancels, subtree and metering summaries. */
export * from './placement.ts';
/** Monitoring events, audit entries, recordings. */
export * from './events.ts';
/** The full-state snapshot of the monitoring stream and recordings. */
export * from './snapshot.ts';
/** What monitoring events carry (job, health, alert, flow data), late visitors' history, trace context. */
export * from './monitoring.ts';
/** Node-server messages: forwarded applications, record copies, accounts, tokens, joint-debugging requests. */
export * from './links.ts';
/** After approval: construction plan, joint debugging on schedule, 验收 evidence and decisions, supervision. */
export * from './acceptance.ts';
/** The `/gateway` socket.io contract: reports, dispatch, job updates, acknowledgements. */
export * from './gateway.ts';
/** The answers of a node's routes: pages `{ items, next }`, lists, acknowledgements, signed tree heads. */
export * from './answers.ts';
/** Routes, socket.io namespaces and events, size limits. */
export { ROUTES, NAMESPACES, SOCKET_EVENTS, BODY_LIMIT_BYTES } from './routes.ts';
/** Validation of any input against a schema into a 400 error body. */
export { validate } from './validate.ts';
/** JSON Schemas of every message, for docs, editors and teams in other languages. */
export { jsonSchemas } from './json-schema.ts';
