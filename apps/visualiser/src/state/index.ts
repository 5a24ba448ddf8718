/** The pure state core of the visualiser (no DOM): recordings, seeking, filters, failover episodes, flows. */
export * from './types.ts';
export * from './recording.ts';
export * from './apply.ts';
export * from './seek.ts';
export * from './filters.ts';
export * from './episodes.ts';
export * from './flows.ts';
export * from './aggregate.ts';
export * from './deep-link.ts';
export * from './tile-layout.ts';
export * from './live.ts';
export * from './series.ts';
