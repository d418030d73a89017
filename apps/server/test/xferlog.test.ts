import { describe, expect, it } from 'vitest';
import { formatXferlogLine, formatXferlogTime } from '../src/xferlog.js';

const end = new Date(Date.UTC(2026, 10, 24, 7, 30, 42));

describe('xferlog', () => {
  it('formats the documented example line', () => {
    const line = formatXferlogLine(
      { end, durationMs: 400, remoteAddress: '127.0.0.1', bytes: 6, path: '/path/file', type: 'binary', direction: 'outgoing', access: 'real', user: 'user', complete: true },
      { utc: true },
    );
    expect(line).toBe('Tue Nov 24 07:30:42 2026 1 127.0.0.1 6 /path/file b _ o r user ftp 0 * c');
  });

  it('pads the day with a zero as ProFTPD does and uses local time by default', () => {
    const d = new Date(2026, 0, 5, 3, 4, 5);
    expect(formatXferlogTime(d)).toBe('Mon Jan 05 03:04:05 2026');
  });

  it('keeps the line parseable: spaces and control characters become _', () => {
    const line = formatXferlogLine(
      { end, durationMs: 2500, remoteAddress: '::ffff:10.0.0.1', bytes: 1234567, path: '/in coming/a\tb\nc.txt', type: 'ascii', direction: 'incoming', access: 'anonymous', user: 'me@example.com', secure: true, complete: false },
      { utc: true },
    );
    const fields = line.split(' ');
    expect(fields).toHaveLength(18);
    expect(fields.slice(5)).toEqual(['3', '::ffff:10.0.0.1', '1234567', '/in_coming/a_b_c.txt', 'a', '_', 'i', 'a', 'me@example.com', 'ftps', '0', '*', 'i']);
  });

  it('logs deletions and guest access', () => {
    const line = formatXferlogLine(
      { end, durationMs: 0, remoteAddress: '127.0.0.1', bytes: 0, path: '/x', type: 'binary', direction: 'deleted', access: 'guest', user: '', complete: true },
      { utc: true },
    );
    expect(line.endsWith(' 1 127.0.0.1 0 /x b _ d g _ ftp 0 * c')).toBe(true);
  });
});
