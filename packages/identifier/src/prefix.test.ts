import { describe, expect, it } from 'vitest';
import { ancestry, childToward, isWithin, parentPrefix, parsePrefix, prefixLevel, route } from './index.ts';

describe('prefixes', () => {
  it('parses the three levels', () => {
    expect(parsePrefix('cpn')).toEqual({
      ok: true,
      value: { prefix: 'CPN', level: 'national', region: null, industry: null },
    });
    expect(parsePrefix('CPN.51')).toEqual({
      ok: true,
      value: { prefix: 'CPN.51', level: 'regional', region: '51', industry: null },
    });
    expect(parsePrefix(' CPN.51.c151 ')).toEqual({
      ok: true,
      value: { prefix: 'CPN.51.C151', level: 'industry', region: '51', industry: 'C151' },
    });
  });

  it('rejects trailing junk: a fourth part is a fault of the prefix, junk glued to the industry a fault of the industry', () => {
    const r = parsePrefix('CPN.51.C151.X');
    expect(!r.ok && r.error.segment).toBe('prefix');
    const glued = parsePrefix('CPN.51.C151X');
    expect(!glued.ok && glued.error.segment).toBe('industry');
  });

  it('relates prefixes', () => {
    expect(isWithin('CPN.51.C151', 'CPN.51')).toBe(true);
    expect(isWithin('CPN.51.C151', 'CPN')).toBe(true);
    expect(isWithin('CPN.51', 'CPN.51')).toBe(true);
    expect(isWithin('CPN.510', 'CPN.51')).toBe(false);
    expect(isWithin('CPN.44', 'CPN.51')).toBe(false);
    expect(parentPrefix('CPN.51.C151')).toBe('CPN.51');
    expect(parentPrefix('CPN')).toBeNull();
    expect(prefixLevel('CPN.51')).toBe('regional');
    expect(childToward('CPN', 'CPN.51.C151')).toBe('CPN.51');
    expect(childToward('CPN.51', 'CPN.51.C151')).toBe('CPN.51.C151');
    expect(childToward('CPN.51', 'CPN.44')).toBeNull();
    expect(ancestry('CPN.51.C151')).toEqual(['CPN', 'CPN.51', 'CPN.51.C151']);
  });

  it('routes local, down or up', () => {
    expect(route('CPN.51', 'CPN.51')).toEqual({ to: 'local' });
    expect(route('CPN', 'CPN.51.C151')).toEqual({ to: 'down', child: 'CPN.51' });
    expect(route('CPN.51.C151', 'CPN.44.C397')).toEqual({ to: 'up', parent: 'CPN.51' });
    expect(route('CPN', 'CPN')).toEqual({ to: 'local' });
  });
});
