import { err, ok, type Result } from '@cpnet/kernel';

/** The GB 32100 alphabet: digits and upper-case letters without I O Z S V. */
export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

/** A valid 统一社会信用代码 split into its parts. */
export interface ParsedCreditCode {
  readonly code: string;
  /** Registration authority (登记管理部门) code, position 1: 1 机构编制, 5 民政, 9 工商 … */
  readonly authority: string;
  /** Organisation type, position 2. */
  readonly type: string;
  /** Administrative division of the registering office, positions 3–8. */
  readonly division: string;
  /** True for codes beginning `12` (机构编制 · 事业单位): a public institution. */
  readonly publicInstitution: boolean;
}

/** Why a text is not a valid 统一社会信用代码. */
export interface CreditCodeError {
  readonly message: string;
  readonly expected: string;
  readonly position?: number;
}

/** The check character (position 18) for the first 17 characters of a code. */
export function creditCodeCheck(body: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = CREDIT_CODE_ALPHABET.indexOf(body[i] ?? '');
    if (v < 0) throw new RangeError(`character ${i + 1} of "${body}" is outside the GB 32100 alphabet`);
    sum += v * WEIGHTS[i]!;
  }
  return CREDIT_CODE_ALPHABET[(31 - (sum % 31)) % 31]!;
}

/** Validates a 统一社会信用代码 (GB 32100): 18 characters, its alphabet, digits in 3–8, the check character. */
export function parseCreditCode(input: string): Result<ParsedCreditCode, CreditCodeError> {
  const code = input.trim().toUpperCase();
  if (code.length !== 18) {
    return err({ message: `统一社会信用代码 "${input}" has ${code.length} characters`, expected: '18 characters' });
  }
  for (let i = 0; i < 18; i++) {
    if (!CREDIT_CODE_ALPHABET.includes(code[i]!)) {
      return err({
        message: `统一社会信用代码 has "${code[i]}" at position ${i + 1}`,
        expected: 'digits and letters without I O Z S V',
        position: i + 1,
      });
    }
  }
  for (let i = 2; i < 8; i++) {
    if (code.charCodeAt(i) < 48 || code.charCodeAt(i) > 57) {
      return err({
        message: `统一社会信用代码 has "${code[i]}" at position ${i + 1}`,
        expected: 'an administrative division code (digits) at positions 3–8',
        position: i + 1,
      });
    }
  }
  const check = creditCodeCheck(code);
  if (code[17] !== check) {
    return err({
      message: `统一社会信用代码 check character "${code[17]}" is wrong`,
      expected: `"${check}"`,
      position: 18,
    });
  }
  return ok({
    code,
    authority: code[0]!,
    type: code[1]!,
    division: code.slice(2, 8),
    publicInstitution: code.startsWith('12'),
  });
}
