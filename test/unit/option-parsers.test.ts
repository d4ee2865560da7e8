import { describe, expect, it } from '@jest/globals';
import { keyValues } from '../../src/cli/option-parsers.js';

describe('keyValues (--param, --operation)', () => {
  it('keeps "__proto__" as a key the library can refuse by name, instead of setting a prototype', () => {
    const parsed = keyValues('__proto__=x', keyValues('inbox_id=inb_1'));
    expect(Object.keys(parsed)).toEqual(['inbox_id', '__proto__']);
    // biome-ignore lint/suspicious/noProto: reading the own key the parser kept is the point
    expect(parsed.__proto__).toBe('x');
  });
});
