// The README benchmark tables are generated from bench/baseline.json: this fails when they disagree (fix with
// `npm run bench -- baseline --write`) or when the baseline lacks where and how its figures were measured.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { READMES, readBaseline } from './baseline.ts';
import { checkBaseline, currentTable, renderTable, replaceTable, SHOWN, START, END } from './src/baseline.ts';

describe('bench/baseline.json and the README tables', () => {
  const baseline = readBaseline();

  it('records, for every benchmark shown, its commit, time, machine, load and figures', () => {
    for (const name of Object.keys(SHOWN)) {
      const e = baseline.benches[name];
      if (!e) continue;
      expect(e.commit).toMatch(/^[0-9a-f]{7,40}\+?$/);
      expect(Number.isNaN(Date.parse(e.measuredAt))).toBe(false);
      expect(e.machine).toMatch(/Node v\d+/);
      expect(Object.keys(e.figures).length).toBeGreaterThan(0);
    }
    expect(Object.keys(baseline.benches).length).toBeGreaterThan(0);
  });

  for (const { file, lang } of READMES)
    it(`${file.split('/').pop()} holds exactly the table generated from the baseline`, () => {
      expect(currentTable(readFileSync(file, 'utf8'))).toBe(renderTable(baseline, lang));
    });

  it('marks an unmet aim and a missing figure, and replaces only the text between the markers', () => {
    const b = checkBaseline({
      note: 'x',
      benches: {
        identifier: {
          commit: 'abcdef0',
          measuredAt: '2026-12-05T06:00:00.000Z',
          machine: '2 × cpu, 8 GiB, Node v20.19.0',
          loadAverage: 9.5,
          loaded: true,
          command: 'npm run bench -- identifier',
          figures: { validations_per_s: 4_800_000, ratio_to_regex: 3.8 },
        },
      },
    });
    const table = renderTable(b, 'en');
    expect(table).toContain('| identifier | `ratio_to_regex` | 3.80 | ≤ 2 | **no** |');
    expect(table).toContain('| identifier | `validations_per_s` | 4,800,000/s | ≥ 100,000/s | yes |');
    expect(
      renderTable(
        checkBaseline({ note: 'x', benches: { identifier: { ...b.benches.identifier!, figures: {} } } }),
        'en',
      ),
    ).toContain('| identifier | `ratio_to_regex` | not recorded | ≤ 2 | — |');
    expect(table).toContain('**loaded**');
    expect(replaceTable(`a\n${START}\nold\n${END}\nb`, table)).toBe(`a\n${table}\nb`);
    expect(() => checkBaseline({ note: 'x', benches: { node: { commit: 1 } } })).toThrow(/benches\.node\.commit/);
  });
});
