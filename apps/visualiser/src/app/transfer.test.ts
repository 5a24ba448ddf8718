import { describe, expect, it } from 'vitest';
import { transferOf, transferText } from './transfer.ts';

describe('transferText: a candidate’s data transfer in the job drawer', () => {
  it('speaks Chinese by default, English when switched, with GiB, 元 and the wait before the start', () => {
    const far = { movedGib: 4104, yuan: 1231.2, secondsToStart: 7037 };
    expect(transferText(far)).toBe('迁移 4,104 GiB · 1,231.20 元 · 2.0 小时后可开始');
    expect(transferText(far, 'en')).toBe('4,104 GiB moved · 1,231.20 元 · starts after 2.0 h');
    expect(transferText({ movedGib: 11, yuan: 3.3, secondsToStart: 17 })).toBe('迁移 11 GiB · 3.30 元 · 17 秒后可开始');
    expect(transferText({ movedGib: 11, yuan: 3.3, secondsToStart: 900 }, 'en')).toBe(
      '11 GiB moved · 3.30 元 · starts after 15 min',
    );
    expect(transferText({ movedGib: 0, yuan: 0, secondsToStart: 3 })).toBe('数据不出省 · 0 元');
    // The Chinese text holds no English word outside the units the page's scan allows (GiB).
    expect(transferText(far).match(/[A-Za-z]+/g)).toEqual(['GiB']);
  });

  it('reads only a well-formed transfer from an explanation entry', () => {
    expect(transferOf({ movedGib: 1, yuan: 0.3, secondsToStart: 2 })).toEqual({
      movedGib: 1,
      yuan: 0.3,
      secondsToStart: 2,
    });
    expect(transferOf(undefined)).toBeNull();
    expect(transferOf({ movedGib: -1, yuan: 0, secondsToStart: 0 })).toBeNull();
    expect(transferOf({ movedGib: 1, yuan: '3', secondsToStart: 0 })).toBeNull();
  });
});
