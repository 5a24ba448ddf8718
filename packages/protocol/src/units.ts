/**
 * Units of the wire contract. Field names carry their unit so that no value is ambiguous:
 * money in 元 (`*Yuan`), registered capital in 万元 (`*WanYuan`), memory and storage in GiB (`*Gib`),
 * bandwidth in Gbit/s (`*Gbps`), compute in TFLOPS with the precision named (`fp16Tflops` …),
 * price in 元 per unit-hour (`pricePerCoreHourYuan`, `pricePerCardHourYuan`), latency in ms (`*Ms`),
 * times as RFC 3339 UTC with milliseconds.
 */
export const UNITS = {
  money: '元',
  registeredCapital: '万元',
  memory: 'GiB',
  storage: 'GiB',
  bandwidth: 'Gbit/s',
  compute: 'TFLOPS',
  price: '元/unit-hour',
  latency: 'ms',
  time: 'RFC 3339 UTC with milliseconds',
} as const;

/** Numeric precisions compute is quoted in. */
export const PRECISIONS = ['FP64', 'FP32', 'FP16', 'INT8'] as const;

/** Formats a time as RFC 3339 UTC with milliseconds (`2026-11-26T10:57:51.000Z`). */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** The minimum registered capital of a node's builder, in 万元 (5000万元). */
export const MIN_REGISTERED_CAPITAL_WAN_YUAN = 5000;
