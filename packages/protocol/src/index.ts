/** Protocol version and the major-version check. */
export { PROTOCOL_VERSION, PROTOCOL_HEADER, checkProtocolVersion, type VersionVerdict } from './version.ts';
/** Error codes with their HTTP statuses and CLI exit codes. */
export { ERROR_CODES, EXIT, errorBody, httpStatus, exitCode, codeForStatus, type ErrorCode, type ErrorBody } from './errors.ts';
/** The one data-residency predicate shared by the scheduler and the policy. */
export { residencyVerdict, OUTSIDE_MAINLAND, type DataResidency, type ResidencyVerdict } from './residency.ts';
/** Units of the wire contract. */
export { UNITS, PRECISIONS, formatTime, MIN_REGISTERED_CAPITAL_WAN_YUAN } from './units.ts';
