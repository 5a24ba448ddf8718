import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '@cpnet/protocol';
import { generateRecording, toJsonLines } from '@cpnet/visualiser';
import { bufferIo } from '../io.ts';
import { CliExit } from '../exit.ts';
import { runViz } from './viz.ts';

const opts = { port: '0', host: '127.0.0.1' };

describe('cpnet viz', () => {
  it('serves a replay, prints "Visualiser: <url>" and stops when asked', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cpnet-viz-')), 'rec.jsonl');
    writeFileSync(file, toJsonLines(generateRecording({ nodes: 4, clusters: 8, events: 20, seed: 1 })));
    const io = bufferIo();
    let config: unknown;
    let index: { index?: { kind: string; events: number } } = {};
    await runViz({ ...opts, replay: file }, io, async (server) => {
      config = await (await fetch(new URL('config.json', server.url))).json();
      index = (await (await fetch(new URL('recording/index', server.url))).json()) as typeof index;
    });
    expect(io.stdout[0]).toMatch(/^Visualiser: http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(config).toEqual({ mode: 'replay', recording: 'recording.jsonl', recordingIndex: 'recording/index' });
    // Served by its index: the page reads the header and index first, then chunks by byte range.
    expect(index.index).toMatchObject({ kind: 'index', events: 20 });
  }, 60_000);

  it('refuses bad options and files that are not recordings with exit 2', async () => {
    const notRecording = join(mkdtempSync(join(tmpdir(), 'cpnet-viz-')), 'x.jsonl');
    writeFileSync(notRecording, '{"kind":"something"}\n');
    for (const bad of [
      { live: 'http://a', replay: notRecording },
      { live: 'ftp://x' },
      { replay: notRecording },
      { replay: '/nonexistent.jsonl' },
      { replay: notRecording, port: 'abc' },
    ]) {
      const e = await runViz({ ...opts, ...bad }, bufferIo(), async () => undefined).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CliExit);
      expect((e as CliExit).code).toBe(EXIT.INVALID_INPUT);
    }
  });

  it('refuses to start with neither --live nor --replay (exit 2 with usage), instead of serving an empty page', async () => {
    const e = await runViz(opts, bufferIo(), async () => undefined).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CliExit);
    expect((e as CliExit).code).toBe(EXIT.INVALID_INPUT);
    expect((e as CliExit).message).toMatch(/^no source: give --live <url> or --replay <file>; usage: cpnet viz/);
  });

  it('refuses a bad --pipeline-credentials file with exit 2 naming the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cpnet-viz-'));
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const cases: [string, RegExp][] = [
      [join(dir, 'missing.json'), /cannot read .*missing\.json/],
      [write('not-json.json', 'reviewer:pass'), /not-json\.json is not JSON; expected \{"applications"/],
      [write('no-cases.json', '{"applications":{"account":"r","password":"p"}}'), /no-cases\.json: cases: /],
      [
        write(
          'empty-password.json',
          '{"applications":{"account":"r","password":""},"cases":{"account":"e","password":"p"}}',
        ),
        /applications\.password: /,
      ],
    ];
    for (const [file, message] of cases) {
      const e = await runViz(
        { ...opts, live: 'http://127.0.0.1:1', pipelineCredentials: file },
        bufferIo(),
        async () => undefined,
      ).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CliExit);
      expect((e as CliExit).code).toBe(EXIT.INVALID_INPUT);
      expect((e as CliExit).message).toMatch(/^--pipeline-credentials: /);
      expect((e as CliExit).message).toMatch(message);
    }
    const good = write(
      'good.json',
      '{"applications":{"account":"r","password":"p"},"cases":{"account":"e","password":"p"}}',
    );
    const noLive = await runViz(
      { ...opts, replay: good, pipelineCredentials: good },
      bufferIo(),
      async () => undefined,
    ).catch((x: unknown) => x);
    expect((noLive as CliExit).message).toMatch(/^--pipeline-credentials needs --live <url>$/);
  });
});
