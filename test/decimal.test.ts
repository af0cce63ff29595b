import { describe, expect, it } from 'vitest';
import {
  addDecimal, compareDecimal, fromScaled, normalizeDecimal, subDecimal, toScaled,
  DECIMAL_RE, UNSIGNED_RE, POSITIVE_RE, isDecimalString, isUnsignedDecimalString, isPositiveDecimalString,
} from '../src/events/decimal.js';

describe('exact decimals', () => {
  it('round-trips scaled integers without loss', () => {
    for (const s of ['0', '1', '0.1', '61837.63000000', '0.00003530', '-12.5', '123456789012345678.123456789']) {
      const scale = 12;
      expect(normalizeDecimal(fromScaled(toScaled(s, scale), scale))).toBe(normalizeDecimal(s));
    }
  });
  it('adds where floats would not', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(addDecimal('0.1', '0.2')).toBe('0.3');
    expect(subDecimal('61837.64', '61837.63')).toBe('0.01');
    expect(addDecimal('99999999999999999.99', '0.01')).toBe('100000000000000000.00');
  });
  it('compares exactly', () => {
    expect(compareDecimal('1.50', '1.5')).toBe(0);
    expect(compareDecimal('0.00003529', '0.0000353')).toBe(-1);
    expect(compareDecimal('10', '9.999999999')).toBe(1);
  });
  it('refuses to truncate silently', () => {
    expect(() => toScaled('1.234', 2)).toThrow(/more than 2 decimal places/);
    expect(toScaled('1.2300', 2)).toBe(123n);
    expect(() => toScaled('1e5', 2)).toThrow(/not a decimal/);
  });
  it('normalises level keys', () => {
    expect(normalizeDecimal('0061837.6300')).toBe('61837.63');
    expect(normalizeDecimal('0.000')).toBe('0');
    expect(normalizeDecimal('-0.0')).toBe('0');
  });
  it('the validators\' character loops agree with the schema\'s patterns', () => {
    // Every string over a small alphabet up to length 5, plus real-looking values and edge cases.
    const alphabet = ['0', '1', '9', '.', '-', 'e', ' ', '+'];
    const all: string[] = ['', '61837.63000000', '0.00000000', '000', '00.000', '-0', '-0.0', '1.', '.5', '1..2', '1\n', '١٢', '0x10'];
    let layer = [''];
    for (let len = 1; len <= 5; len++) {
      layer = layer.flatMap((p) => alphabet.map((c) => p + c));
      all.push(...layer);
    }
    let accepted = 0;
    for (const s of all) {
      expect([s, isDecimalString(s)]).toEqual([s, DECIMAL_RE.test(s)]);
      expect([s, isUnsignedDecimalString(s)]).toEqual([s, UNSIGNED_RE.test(s)]);
      expect([s, isPositiveDecimalString(s)]).toEqual([s, POSITIVE_RE.test(s)]);
      if (isPositiveDecimalString(s)) accepted++;
    }
    expect(accepted).toBeGreaterThan(100);
  });
});

