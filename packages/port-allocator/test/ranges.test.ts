import { describe, expect, it } from 'vitest';
import { AllocatorError, countPorts, formatPortRanges, parsePortRanges, partitionRanges } from '../src/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AllocatorError);
    return (e as AllocatorError).code;
  }
  return undefined;
}

describe('parsePortRanges', () => {
  it('reads ports and ranges separated by commas or spaces, sorted', () => {
    expect(parsePortRanges('61000, 60000 - 60010 60020')).toEqual([
      { min: 60000, max: 60010 },
      { min: 60020, max: 60020 },
      { min: 61000, max: 61000 },
    ]);
    expect(parsePortRanges('1-65535')).toEqual([{ min: 1, max: 65535 }]);
    expect(parsePortRanges([{ min: 5, max: 5 }])).toEqual([{ min: 5, max: 5 }]);
  });

  it('returns copies, never the caller objects', () => {
    const input = [{ min: 10, max: 20 }];
    const out = parsePortRanges(input);
    expect(out[0]).not.toBe(input[0]);
  });

  it.each([
    ['', 'no port range given'],
    ['0-10', 'from 1 to 65535'],
    ['65536', 'from 1 to 65535'],
    ['100-99', 'must not be greater'],
    ['10-20,15-30', 'overlap'],
    ['abc', 'is not a port'],
    ['10--20', 'is not a port'],
    ['1.5', 'is not a port'],
    ['123456', 'is not a port'],
  ])('refuses %j with ERR_ALLOCATOR_RANGE_INVALID (%s)', (spec, text) => {
    expect(codeOf(() => parsePortRanges(spec))).toBe('ERR_ALLOCATOR_RANGE_INVALID');
    expect(() => parsePortRanges(spec)).toThrow(text);
  });

  it('refuses bad objects', () => {
    expect(codeOf(() => parsePortRanges([{ min: 1.5, max: 3 }]))).toBe('ERR_ALLOCATOR_RANGE_INVALID');
    expect(codeOf(() => parsePortRanges([{ min: 3, max: 2 }]))).toBe('ERR_ALLOCATOR_RANGE_INVALID');
    expect(codeOf(() => parsePortRanges([]))).toBe('ERR_ALLOCATOR_RANGE_INVALID');
    expect(codeOf(() => parsePortRanges(42 as never))).toBe('ERR_ALLOCATOR_RANGE_INVALID');
    expect(codeOf(() => parsePortRanges([null as never]))).toBe('ERR_ALLOCATOR_RANGE_INVALID');
  });

  it('formats back to the compact form', () => {
    const spec = '60000-60010,60020,61000-61005';
    expect(formatPortRanges(parsePortRanges(spec))).toBe(spec);
    expect(countPorts(parsePortRanges(spec))).toBe(11 + 1 + 6);
  });
});

describe('partitionRanges', () => {
  it('splits into contiguous parts of near-equal size across ranges', () => {
    expect(partitionRanges(parsePortRanges('1-10,20-25'), 4)).toEqual([
      [{ min: 1, max: 4 }],
      [{ min: 5, max: 8 }],
      [{ min: 9, max: 10 }, { min: 20, max: 21 }],
      [{ min: 22, max: 25 }],
    ]);
    expect(partitionRanges([{ min: 7, max: 7 }], 1)).toEqual([[{ min: 7, max: 7 }]]);
  });

  it('refuses n that cannot give every part a port', () => {
    expect(codeOf(() => partitionRanges([{ min: 1, max: 3 }], 4))).toBe('ERR_ALLOCATOR_PARTITION_INVALID');
    expect(codeOf(() => partitionRanges([{ min: 1, max: 3 }], 0))).toBe('ERR_ALLOCATOR_PARTITION_INVALID');
    expect(codeOf(() => partitionRanges([{ min: 1, max: 3 }], 1.5))).toBe('ERR_ALLOCATOR_PARTITION_INVALID');
  });
});
