import { AllocatorError } from './errors.js';

/** An inclusive range of port numbers, `min <= max`, both within 1..65535. */
export interface PortRange {
  min: number;
  max: number;
}

const MIN_PORT = 1;
const MAX_PORT = 65535;
const ITEM = /^(\d{1,5})(?:-(\d{1,5}))?$/;

function invalid(message: string): AllocatorError {
  return new AllocatorError('ERR_ALLOCATOR_RANGE_INVALID', message);
}

function checkPort(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_PORT || value > MAX_PORT) {
    throw invalid(`${what} must be an integer port number from ${MIN_PORT} to ${MAX_PORT}, got ${String(value)}`);
  }
  return value;
}

/** Validates one range and returns a fresh copy. Throws `ERR_ALLOCATOR_RANGE_INVALID`. */
export function checkRange(range: PortRange, what = 'range'): PortRange {
  if (typeof range !== 'object' || range === null) throw invalid(`${what} must be an object { min, max }`);
  const min = checkPort(range.min, `${what}.min`);
  const max = checkPort(range.max, `${what}.max`);
  if (min > max) throw invalid(`${what}: min port ${min} must not be greater than max port ${max}`);
  return { min, max };
}

/**
 * Parses and validates port ranges: a string such as `"60000-60100,61000"` (items
 * separated by commas or white space, each a port or `min-max`) or an array of
 * `{ min, max }`. Returns new ranges sorted by `min`. Overlapping ranges are refused,
 * since they almost always mean a typing mistake.
 *
 * @throws AllocatorError `ERR_ALLOCATOR_RANGE_INVALID`
 */
export function parsePortRanges(spec: string | readonly PortRange[]): PortRange[] {
  let ranges: PortRange[];
  if (typeof spec === 'string') {
    const items = spec.replace(/\s*-\s*/g, '-').split(/[\s,]+/).filter((s) => s !== '');
    ranges = items.map((item) => {
      const m = ITEM.exec(item);
      if (m === null) throw invalid(`"${item}" is not a port or a range min-max (in "${spec}")`);
      const min = Number(m[1]);
      return checkRange({ min, max: m[2] === undefined ? min : Number(m[2]) }, `"${item}"`);
    });
  } else if (Array.isArray(spec)) {
    ranges = (spec as readonly PortRange[]).map((r, i) => checkRange(r, `ranges[${i}]`));
  } else {
    throw invalid('ranges must be a string such as "60000-60100" or an array of { min, max }');
  }
  if (ranges.length === 0) throw invalid('no port range given');
  ranges.sort((a, b) => a.min - b.min);
  for (let i = 1; i < ranges.length; i++) {
    const prev = ranges[i - 1] as PortRange;
    const cur = ranges[i] as PortRange;
    if (cur.min <= prev.max) throw invalid(`ranges ${formatRange(prev)} and ${formatRange(cur)} overlap`);
  }
  return ranges;
}

function formatRange(r: PortRange): string {
  return r.min === r.max ? String(r.min) : `${r.min}-${r.max}`;
}

/** `"60000-60100,61000"`: the compact form {@link parsePortRanges} reads back. */
export function formatPortRanges(ranges: readonly PortRange[]): string {
  return ranges.map(formatRange).join(',');
}

/** The number of ports in the ranges. */
export function countPorts(ranges: readonly PortRange[]): number {
  let n = 0;
  for (const r of ranges) n += r.max - r.min + 1;
  return n;
}

/**
 * Splits ranges into `n` disjoint parts that together cover them exactly, each a
 * contiguous run of the ports in ascending order (firewall-friendly), sizes differing by
 * at most one. Use it to give each cluster worker or instance its own share.
 *
 * @throws AllocatorError `ERR_ALLOCATOR_PARTITION_INVALID` when `n` is not an integer
 *   from 1 to the number of ports.
 */
export function partitionRanges(ranges: readonly PortRange[], n: number): PortRange[][] {
  const sorted = parsePortRanges(ranges);
  const total = countPorts(sorted);
  if (!Number.isInteger(n) || n < 1 || n > total) {
    throw new AllocatorError('ERR_ALLOCATOR_PARTITION_INVALID',
      `cannot split ${total} port(s) (${formatPortRanges(sorted)}) into ${String(n)} non-empty part(s)`);
  }
  const parts: PortRange[][] = [];
  let ri = 0;
  let next = (sorted[0] as PortRange).min; // first port not yet given out
  for (let i = 0; i < n; i++) {
    let want = Math.floor(((i + 1) * total) / n) - Math.floor((i * total) / n);
    const part: PortRange[] = [];
    while (want > 0) {
      const r = sorted[ri] as PortRange;
      const take = Math.min(want, r.max - next + 1);
      part.push({ min: next, max: next + take - 1 });
      want -= take;
      next += take;
      if (next > r.max && ++ri < sorted.length) next = (sorted[ri] as PortRange).min;
    }
    parts.push(part);
  }
  return parts;
}
