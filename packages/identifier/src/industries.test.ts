import { describe, expect, it } from 'vitest';
import {
  DIVISION_NAMES,
  GROUP_NAMES,
  SECTIONS,
  describeIdentifier,
  divisionName,
  formatIdentifier,
  groupName,
  parseIdentifier,
  parsePrefix,
  section,
} from './index.ts';

const codes = Object.keys(GROUP_NAMES);

describe('GB/T 4754-2017 code tables', () => {
  it('has the 20 sections, the 97 divisions and all 473 中类 of the standard', () => {
    expect(SECTIONS).toHaveLength(20);
    expect(Object.keys(DIVISION_NAMES)).toHaveLength(97);
    expect(codes).toHaveLength(473);
    expect(new Set(Object.values(GROUP_NAMES)).size).toBeGreaterThan(460);
  });

  it('keys every 中类 as section letter + 3 digits, in code order, under the section of its division', () => {
    expect([...codes].sort((a, b) => a.slice(1).localeCompare(b.slice(1)))).toEqual(codes);
    for (const code of codes) {
      expect(code, code).toMatch(/^[A-T]\d{3}$/);
      const division = Number(code.slice(1, 3));
      const s = section(code[0]!);
      expect(s, code).toBeDefined();
      expect(
        division >= s!.from && division <= s!.to,
        `${code}: division ${division} is not in section ${s!.letter}`,
      ).toBe(true);
      expect(divisionName(division), code).toBeDefined();
      expect(GROUP_NAMES[code]!.trim(), code).not.toBe('');
    }
  });

  it('gives every division at least one 中类', () => {
    const divisions = new Set(codes.map((c) => Number(c.slice(1, 3))));
    for (let d = 1; d <= 97; d++) expect(divisions.has(d), `division ${d}`).toBe(true);
  });

  it('names the 中类 as the 2017 edition does', () => {
    expect(groupName('C151')).toBe('酒的制造');
    expect(groupName('C397')).toBe('电子器件制造');
    expect(groupName('C398')).toBe('电子元件及电子专用材料制造');
    expect(groupName('I651')).toBe('软件开发');
    expect(groupName('I652')).toBe('集成电路设计');
    expect(groupName('I655')).toBe('信息处理和存储支持服务');
    expect(groupName('A017')).toBe('中药材种植');
    expect(groupName('A051')).toBe('农业专业及辅助性活动');
    expect(groupName('B111')).toBe('煤炭开采和洗选专业及辅助性活动');
    expect(groupName('C276')).toBe('生物药品制品制造');
    expect(groupName('C341')).toBe('锅炉及原动设备制造');
    expect(groupName('C396')).toBe('智能消费设备制造');
    expect(groupName('I643')).toBe('互联网平台');
    expect(groupName('Q841')).toBe('医院');
    expect(groupName('T970')).toBe('国际组织');
    expect(divisionName(5)).toBe('农、林、牧、渔专业及辅助性活动');
    expect(divisionName(11)).toBe('开采专业及辅助性活动');
  });

  it('has no name for a code the standard lacks, nor for inherited property names', () => {
    expect(groupName('C159')).toBeNull();
    expect(groupName('A011 ')).toBeNull();
    expect(groupName('constructor')).toBeNull();
    expect(groupName('toString')).toBeNull();
  });

  it('accepts every 中类 ending in 1–9 as an industry segment; the three ending in 0 are outside the grammar', () => {
    // Divisions 12, 91 and 97 have a single 中类 coded 0 (120, 910, 970); the grammar's last digit is 1–9.
    expect(codes.filter((c) => c.endsWith('0'))).toEqual(['B120', 'S910', 'T970']);
    for (const code of codes) expect(parsePrefix(`CPN.51.${code}`).ok, code).toBe(!code.endsWith('0'));
  });

  it('keeps an unknown but well-formed 中类 valid, with no name', () => {
    const made = formatIdentifier({ prefix: 'CPN.51.C159', kind: 'ND', serial: '1' });
    const parsed = made.ok ? parseIdentifier(made.value) : made;
    expect(parsed.ok && describeIdentifier(parsed.value).industry).toEqual({ code: 'C159', name: null });
    const known = parseIdentifier('CPN.51.C151/CL-01JQ4ZK8M3XX1');
    expect(known.ok && describeIdentifier(known.value).industry).toEqual({ code: 'C151', name: '酒的制造' });
  });
});
