import { describe, expect, it } from 'vitest';
import { Harness, enc, settle } from './harness.js';
import type { FakeConnection } from './harness.js';

const T = Date.UTC(2026, 10, 24, 5, 0, 0);

async function ready(config = {}): Promise<Harness> {
  const h = new Harness({ config });
  h.fs.addFile('/hello.txt', 'hello\n', T);
  h.fs.addFile('/lines.txt', 'a\nb\r\nc\n', T);
  h.fs.addDir('/dir', T);
  await h.login();
  return h;
}

async function pasvConnect(h: Harness): Promise<FakeConnection> {
  expect((await h.send('PASV'))[0]).toMatch(/^227 /);
  return h.data.last.connect('127.0.0.1', 50001);
}

describe('RETR', () => {
  it('binary: 150 with the size, the bytes, 226; xferlog fields', async () => {
    const h = await ready();
    await h.send('TYPE I');
    const conn = await pasvConnect(h);
    expect(await h.send('RETR hello.txt')).toEqual([
      '150 Opening BINARY mode data connection for hello.txt (6 bytes)',
      '226 Transfer complete',
    ]);
    expect(conn.text()).toBe('hello\n');
    const [end] = h.eventsOf('transfer-end');
    expect(end).toMatchObject({
      verb: 'RETR',
      path: '/hello.txt',
      direction: 'o',
      transferType: 'b',
      bytes: 6,
      completion: 'c',
      user: 'ftptest',
      anonymous: false,
      accessMode: 'r',
      reason: 'complete',
    });
    expect(h.eventsOf('transfer-start')).toHaveLength(1);
    expect(h.eventsOf('data-open')[0]?.message).toBe('passive data connection opened - remote : 127.0.0.1:50001');
  });

  it('ASCII: LF becomes CRLF on the wire, existing CRLF stays', async () => {
    const h = await ready();
    h.fs.chunkSize = 1; // CRLF split across chunks
    const conn = await pasvConnect(h);
    expect(await h.send('RETR lines.txt')).toEqual([
      '150 Opening ASCII mode data connection for lines.txt (7 bytes)',
      '226 Transfer complete',
    ]);
    expect(conn.text()).toBe('a\r\nb\r\nc\r\n');
    expect(h.eventsOf('transfer-end')[0]).toMatchObject({ transferType: 'a', bytes: 7 });
  });

  it('REST + RETR resumes; a REST beyond the end is refused', async () => {
    const h = await ready();
    await h.send('TYPE I');
    expect(await h.send('REST 2')).toEqual(['350 Restarting at 2. Send STORE or RETRIEVE to initiate transfer']);
    const conn = await pasvConnect(h);
    expect(await h.send('RETR hello.txt')).toEqual([
      '150 Opening BINARY mode data connection for hello.txt (4 bytes)',
      '226 Transfer complete',
    ]);
    expect(conn.text()).toBe('llo\n');
    expect(h.eventsOf('transfer-end')[0]?.offset).toBe(2);
    await h.send('REST 100');
    await h.send('PASV');
    expect(await h.send('RETR hello.txt')).toEqual(['554 Requested action not taken: invalid REST parameter']);
  });

  it('REST argument checks and ASCII refusal', async () => {
    const h = await ready();
    await h.transcript(`
      C: REST 5
      S: 501 REST: Resuming transfers not allowed in ASCII mode
      C: REST 0
      S: 350 Restarting at 0. Send STORE or RETRIEVE to initiate transfer
      C: TYPE I
      S: 200 Type set to I
      C: REST -1
      S: 501 REST requires a value greater than or equal to 0
      C: REST abc
      S: 501 REST requires a value greater than or equal to 0
    `);
  });

  it('AllowRetrieveRestart off refuses a resumed RETR', async () => {
    const h = await ready({ allowRetrieveRestart: false });
    await h.send('TYPE I');
    await h.send('REST 1');
    await h.send('PASV');
    expect(await h.send('RETR hello.txt')).toEqual(['451 hello.txt: Restart not permitted, try again']);
  });

  it('file errors come before the data connection (550), not-a-file too', async () => {
    const h = await ready();
    await h.send('PASV');
    expect(await h.send('RETR nothing')).toEqual(['550 nothing: No such file or directory']);
    expect(await h.send('RETR dir')).toEqual(['550 dir: Not a regular file']);
    h.fs.faults.push({ op: 'read', code: 'EACCES' });
    expect(await h.send('RETR hello.txt')).toEqual(['550 hello.txt: Permission denied']);
    expect(h.data.last.accepts).toBe(0);
    expect(h.eventsOf('transfer-end')).toHaveLength(0);
  });

  it('a refused transfer uses up the passive channel: a connection made for it never reaches the next one', async () => {
    const h = await ready();
    const stale = await pasvConnect(h);
    expect(await h.send('RETR nothing')).toEqual(['550 nothing: No such file or directory']);
    expect(h.data.last.closed).toBe(true);
    expect(stale.text()).toBe('');
    // No wait for a connection that never comes: the next transfer asks for a new channel.
    expect(await h.send('RETR hello.txt')).toEqual(['425 Unable to build data connection: Use PORT or PASV first']);
    await pasvConnect(h);
    expect(await h.send('STOR nowhere/x')).toEqual(['550 nowhere/x: No such file or directory']);
    expect(h.data.last.closed).toBe(true);
    const conn = await pasvConnect(h);
    expect(await h.send('RETR hello.txt')).toEqual(['150 Opening ASCII mode data connection for hello.txt (6 bytes)', '226 Transfer complete']);
    expect(conn.text()).toBe('hello\r\n');
  });

  it('a read error mid-transfer answers 451; a lost connection 426', async () => {
    const h = await ready();
    await h.send('TYPE I');
    h.fs.faults.push({ op: 'read', code: 'EIO', afterBytes: 4 });
    await pasvConnect(h);
    expect(await h.send('RETR hello.txt')).toEqual([
      '150 Opening BINARY mode data connection for hello.txt (6 bytes)',
      '451 Transfer aborted. Input/output error',
    ]);
    expect(h.eventsOf('transfer-end')[0]).toMatchObject({ completion: 'i', reason: 'file-error', bytes: 4 });
    const conn = await pasvConnect(h);
    conn.reset();
    expect(await h.send('RETR hello.txt')).toEqual([
      '150 Opening BINARY mode data connection for hello.txt (6 bytes)',
      '426 Transfer aborted. Data connection closed',
    ]);
    expect(h.eventsOf('transfer-end')[1]).toMatchObject({ completion: 'i', reason: 'data-error' });
  });

  it('streams with backpressure: bytes are pulled as the connection takes them', async () => {
    const h = await ready();
    await h.send('TYPE I');
    h.fs.addFile('/big', new Uint8Array(64 * 1024).fill(7));
    h.fs.chunkSize = 1024;
    const conn = await pasvConnect(h);
    conn.hold();
    h.raw('RETR big\r\n');
    await settle();
    expect(h.control.take()).toEqual(['150 Opening BINARY mode data connection for big (65536 bytes)']);
    expect(conn.sent.length).toBe(0); // nothing read ahead while the connection is not writable
    conn.release();
    await settle(10);
    expect(h.control.take()).toEqual(['226 Transfer complete']);
    expect(conn.sent.reduce((n, c) => n + c.length, 0)).toBe(65536);
  });
});

describe('STOR / APPE / STOU', () => {
  it('STOR binary, then APPE', async () => {
    const h = await ready();
    await h.send('TYPE I');
    let conn = await pasvConnect(h);
    conn.upload('hello ');
    conn.upload('world');
    conn.finish();
    expect(await h.send('STOR up.bin')).toEqual(['150 Opening BINARY mode data connection for up.bin', '226 Transfer complete']);
    expect(h.fs.text('/up.bin')).toBe('hello world');
    expect(h.eventsOf('transfer-end')[0]).toMatchObject({ verb: 'STOR', direction: 'i', bytes: 11, completion: 'c', path: '/up.bin' });
    conn = await pasvConnect(h);
    conn.upload('!');
    conn.finish();
    expect(await h.send('APPE up.bin')).toEqual(['150 Opening BINARY mode data connection for up.bin', '226 Transfer complete']);
    expect(h.fs.text('/up.bin')).toBe('hello world!');
  });

  it('STOR ASCII converts CRLF to LF, also split across chunks', async () => {
    const h = await ready();
    const conn = await pasvConnect(h);
    conn.upload('a\r');
    conn.upload('\nb\r\nc\rd\r');
    conn.finish();
    expect(await h.send('STOR t.txt')).toEqual(['150 Opening ASCII mode data connection for t.txt', '226 Transfer complete']);
    expect(h.fs.text('/t.txt')).toBe('a\nb\nc\rd\r');
  });

  it('REST + STOR resumes at the offset; AllowStoreRestart off refuses', async () => {
    const h = await ready();
    await h.send('TYPE I');
    await h.send('REST 3');
    const conn = await pasvConnect(h);
    conn.upload('LO!');
    conn.finish();
    expect(await h.send('STOR hello.txt')).toEqual(['150 Opening BINARY mode data connection for hello.txt', '226 Transfer complete']);
    expect(h.fs.text('/hello.txt')).toBe('helLO!');
    const strict = await ready({ allowStoreRestart: false });
    await strict.send('TYPE I');
    await strict.send('REST 3');
    await strict.send('PASV');
    expect(await strict.send('STOR hello.txt')).toEqual(['451 hello.txt: Append/Restart not permitted, try again']);
  });

  it('AllowOverwrite off refuses an existing file', async () => {
    const h = await ready({ allowOverwrite: false });
    await h.send('PASV');
    expect(await h.send('STOR hello.txt')).toEqual(['550 hello.txt: Overwrite permission denied']);
  });

  it('bad names and permissions: 553 and 550 before the data connection', async () => {
    const h = await ready();
    await h.send('PASV');
    expect(await h.send('STOR /')).toEqual(['553 /: File name not allowed']);
    expect(await h.send('STOR dir')).toEqual(['550 dir: Not a regular file']);
    expect(await h.send('STOR nodir/x')).toEqual(['550 nodir/x: No such file or directory']);
    h.fs.faults.push({ op: 'write', code: 'ENAMETOOLONG' });
    expect(await h.send('STOR x')).toEqual(['550 x: File name too long']);
    h.fs.faults.push({ op: 'write', code: 'EACCES' });
    expect(await h.send('STOR x')).toEqual(['550 x: Permission denied']);
    expect(h.data.last.accepts).toBe(0);
  });

  it('disk full during the upload answers 452 and discards; quota 552', async () => {
    const h = await ready();
    await h.send('TYPE I');
    h.fs.faults.push({ op: 'sink', code: 'ENOSPC', afterBytes: 3 });
    let conn = await pasvConnect(h);
    conn.upload('abcdef');
    conn.finish();
    expect(await h.send('STOR full.bin')).toEqual([
      '150 Opening BINARY mode data connection for full.bin',
      '452 Transfer aborted. No space left on device',
    ]);
    expect(h.fs.sinkLog).toEqual(['abort /full.bin']);
    expect(h.fs.nodes.has('/full.bin')).toBe(false);
    h.fs.faults.push({ op: 'sink', code: 'EDQUOT' });
    conn = await pasvConnect(h);
    conn.upload('abc');
    conn.finish();
    expect((await h.send('STOR q.bin'))[1]).toBe('552 Transfer aborted. Disk quota exceeded');
    h.fs.faults.push({ op: 'end', code: 'ENOSPC' });
    conn = await pasvConnect(h);
    conn.upload('abc');
    conn.finish();
    expect((await h.send('STOR late.bin'))[1]).toBe('452 Transfer aborted. No space left on device');
  });

  it('a reset upload answers 426 and keeps the partial file unless DeleteAbortedStores', async () => {
    const h = await ready();
    await h.send('TYPE I');
    let conn = await pasvConnect(h);
    conn.upload('part');
    conn.reset();
    expect(await h.send('STOR p.bin')).toEqual(['150 Opening BINARY mode data connection for p.bin', '426 Transfer aborted. Data connection closed']);
    expect(h.fs.text('/p.bin')).toBe('part');
    const strict = await ready({ deleteAbortedStores: true });
    await strict.send('TYPE I');
    conn = await pasvConnect(strict);
    conn.upload('part');
    conn.reset();
    expect((await strict.send('STOR p.bin'))[1]).toBe('426 Transfer aborted. Data connection closed');
    expect(strict.fs.nodes.has('/p.bin')).toBe(false);
    expect(strict.fs.sinkLog).toEqual(['abort /p.bin']);
  });

  it('STOU picks a unique name (150 FILE:) and retries on collisions', async () => {
    let n = 0;
    const values = [0.1, 0.1, 0.2, 0.3];
    const h = new Harness({ random: () => values[n++ % values.length] as number });
    await h.login();
    await h.send('TYPE I');
    let conn = await pasvConnect(h);
    conn.upload('1');
    conn.finish();
    const first = await h.send('STOU');
    expect(first[0]).toMatch(/^150 FILE: ftp\w{6}$/);
    expect(first[1]).toBe('226 Transfer complete');
    const name1 = (first[0] as string).slice('150 FILE: '.length);
    expect(h.fs.text(`/${name1}`)).toBe('1');
    conn = await pasvConnect(h);
    conn.upload('2');
    conn.finish();
    const second = await h.send('STOU');
    const name2 = (second[0] as string).slice('150 FILE: '.length);
    expect(name2).not.toBe(name1);
    expect(h.fs.text(`/${name2}`)).toBe('2');
    conn = await pasvConnect(h);
    conn.upload('3');
    conn.finish();
    // An argument is ignored (ProFTPD): still a unique name in the current directory.
    const third = await h.send('STOU pub/hello');
    expect(third[0]).toMatch(/^150 FILE: ftp\w{6}$/);
    expect(third[1]).toBe('226 Transfer complete');
    expect(h.fs.text(`/${(third[0] as string).slice('150 FILE: '.length)}`)).toBe('3');
    expect(h.fs.text('/pub/hello')).toBeUndefined();
  });

  it('never buffers an upload: each chunk reaches the sink as it arrives', async () => {
    const h = await ready();
    await h.send('TYPE I');
    const conn = await pasvConnect(h);
    h.raw('STOR s.bin\r\n');
    await settle();
    expect(h.control.take()).toEqual(['150 Opening BINARY mode data connection for s.bin']);
    conn.upload(enc.encode('x'.repeat(1000)));
    await settle();
    expect(h.fs.sinkBytes).toBe(1000); // in the sink before the upload ended
    conn.upload(enc.encode('y'));
    await settle();
    expect(h.fs.sinkBytes).toBe(1001);
    conn.finish();
    await settle();
    expect(h.control.take()).toEqual(['226 Transfer complete']);
    expect(h.fs.text('/s.bin')).toHaveLength(1001);
  });
});

describe('TYPE / MODE / STRU / ALLO', () => {
  it('RETR, STOR, APPE and REST without a name or offset are not understood (500, ProFTPD mod_xfer); DELE is 501', async () => {
    const h = await ready();
    await h.transcript(`
      C: RETR
      S: 500 'RETR' not understood
      C: STOR
      S: 500 'STOR' not understood
      C: APPE
      S: 500 'APPE' not understood
      C: REST
      S: 500 'REST' not understood
      C: DELE
      S: 501 Invalid number of parameters
    `);
  });

  it('accepts what RFC 959 requires and refuses the rest with 504', async () => {
    const h = await ready();
    await h.transcript(`
      C: TYPE I
      S: 200 Type set to I
      C: TYPE A
      S: 200 Type set to A
      C: TYPE L 8
      S: 200 Type set to L
      C: type i
      S: 200 Type set to i
      C: TYPE E
      S: 504 TYPE not implemented for 'E' parameter
      C: TYPE Q
      S: 504 TYPE not implemented for 'Q' parameter
      C: MODE S
      S: 200 Mode set to S
      C: MODE B
      S: 504 'MODE B' unsupported transfer mode
      C: MODE X
      S: 501 'MODE X' unrecognized transfer mode
      C: STRU F
      S: 200 Structure set to F
      C: STRU R
      S: 504 'STRU R' unsupported structure type
      C: ALLO 1000
      S: 202 No storage allocation necessary
    `);
  });
});
