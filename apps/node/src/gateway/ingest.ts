import type { ClusterReport } from '@cpnet/protocol';

/** One gateway report, checked, waiting to be written. */
export interface PendingReport {
  readonly gateway: string;
  readonly seq: number;
  readonly entries: readonly ClusterReport[];
  /**
   * Clusters among `entries` the gateway named as unchanged (`ext.unchanged`): their entry is the one held, so a store
   * may refresh their row rather than rewrite it.
   */
  readonly unchanged?: ReadonlySet<string>;
  /** Node time the report arrived on the socket (the view orders it against dispatches and finishes by it). */
  readonly receivedAt?: number;
}

/** Writes a batch of reports durably (one transaction), or throws. */
export type ReportWriter = (batch: readonly PendingReport[]) => Promise<void>;

/** The group-commit queue of gateway reports. */
export interface IngestQueue {
  /** Resolves once the report is durably written (then it may be acknowledged); rejects if the write failed. */
  submit(report: PendingReport): Promise<void>;
  /** Resolves when everything submitted so far is written. */
  drain(): Promise<void>;
  /** Reports waiting or being written. */
  readonly depth: number;
}

interface Waiting {
  readonly report: PendingReport;
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * Group commit: reports that arrive while a batch is being written are written together in the next transaction,
 * so a busy node writes hundreds of reports per commit and an idle one commits each at once. A report is
 * acknowledged only after its transaction committed, so an acknowledged report survives a crash.
 */
export function createIngestQueue(options: {
  write: ReportWriter;
  onCommitted?: (batch: readonly PendingReport[]) => void;
  maxBatch?: number;
}): IngestQueue {
  const maxBatch = options.maxBatch ?? 500;
  let queue: Waiting[] = [];
  let writing: Promise<void> | null = null;

  async function loop(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      const reports = batch.map((w) => w.report);
      try {
        await options.write(reports);
        options.onCommitted?.(reports);
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
  }

  function start(): void {
    if (writing) return;
    // setImmediate lets reports that arrive in the same turn of the event loop join the first batch.
    writing = new Promise<void>((resolve) => setImmediate(resolve)).then(loop).finally(() => {
      writing = null;
      if (queue.length > 0) start();
    });
  }

  return {
    submit(report) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ report, resolve, reject });
        start();
      });
    },
    async drain() {
      while (writing) await writing;
    },
    get depth() {
      return queue.length;
    },
  };
}
