import { describe, expect, it } from 'vitest';
import { Harness, settle } from './harness.js';

describe('pipelining', () => {
  it('answers 16 pipelined IO-free commands synchronously in one write', async () => {
    const h = new Harness();
    await h.login();
    const before = h.control.writes.length;
    const lines = ['NOOP', 'PWD', 'TYPE I', 'TYPE A', 'SYST', 'MODE S', 'STRU F', 'NOOP', 'PWD', 'CDUP', 'REST 0', 'ALLO 5', 'NOOP', 'FEAT', 'HELP SIZE', 'PWD'];
    h.raw(lines.map((l) => `${l}\r\n`).join(''));
    // No await: everything was handled inside receive().
    expect(h.control.writes.length).toBe(before + 1);
    const replies = h.control.take();
    expect(replies[0]).toBe('200 NOOP command successful');
    expect(replies.filter((r) => /^\d{3} /.test(r))).toHaveLength(16);
  });

  it('keeps strict order across commands that need IO', async () => {
    const h = new Harness();
    h.fs.addDir('/a');
    await h.login();
    h.raw('CWD a\r\nPWD\r\nMKD b\r\nCWD b\r\nPWD\r\nCDUP\r\nPWD\r\n');
    await settle();
    expect(h.control.take()).toEqual([
      '250 CWD command successful',
      '257 "/a" is the current directory',
      '257 "/a/b" - Directory successfully created',
      '250 CWD command successful',
      '257 "/a/b" is the current directory',
      '250 CDUP command successful',
      '257 "/a" is the current directory',
    ]);
  });

  it('handles lines split anywhere, byte by byte', async () => {
    const h = new Harness();
    await h.login();
    const text = 'NOOP\r\nPWD\r\nTYPE I\r\n';
    for (const ch of text) h.raw(ch);
    await settle();
    expect(h.control.take()).toEqual(['200 NOOP command successful', '257 "/" is the current directory', '200 Type set to I']);
  });

  it('a pipelined transfer sequence (PASV, RETR, PASV, RETR) runs in order', async () => {
    const h = new Harness();
    h.fs.addFile('/a', 'A');
    h.fs.addFile('/b', 'B');
    await h.login();
    h.raw('TYPE I\r\nPASV\r\nRETR a\r\n');
    await settle();
    h.data.last.connect();
    h.raw('PASV\r\nRETR b\r\n');
    await settle();
    h.data.last.connect();
    await settle();
    expect(h.control.take()).toEqual([
      '200 Type set to I',
      '227 Entering Passive Mode (127,0,0,1,234,96).',
      '150 Opening BINARY mode data connection for a (1 bytes)',
      '226 Transfer complete',
      '227 Entering Passive Mode (127,0,0,1,234,97).',
      '150 Opening BINARY mode data connection for b (1 bytes)',
      '226 Transfer complete',
    ]);
  });
});
