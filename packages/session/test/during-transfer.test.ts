import { describe, expect, it } from 'vitest';
import { Harness, settle } from './harness.js';
import type { FakeConnection } from './harness.js';

async function downloading(): Promise<{ h: Harness; conn: FakeConnection }> {
  const h = new Harness();
  h.fs.addFile('/big', 'x'.repeat(100));
  h.fs.chunkSize = 10;
  await h.login();
  await h.send('TYPE I');
  await h.send('PASV');
  const conn = h.data.last.connect();
  conn.hold();
  h.raw('RETR big\r\n');
  await settle();
  expect(h.control.take()).toEqual(['150 Opening BINARY mode data connection for big (100 bytes)']);
  return { h, conn };
}

describe('commands during a transfer (the control connection is never paused)', () => {
  it('ABOR: 426 then 226, the data connection is destroyed, xferlog incomplete', async () => {
    const { h, conn } = await downloading();
    expect(await h.send('ABOR')).toEqual(['426 Transfer aborted. Data connection closed.', '226 Abort successful']);
    expect(conn.destroyed).toBe(true);
    await settle();
    expect(h.control.take()).toEqual([]);
    expect(h.eventsOf('transfer-end')[0]).toMatchObject({ completion: 'i', reason: 'aborted' });
    expect(await h.send('NOOP')).toEqual(['200 NOOP command successful']);
  });

  it('ABOR preceded by Telnet IP/Synch is handled the same', async () => {
    const { h, conn } = await downloading();
    h.raw(Uint8Array.of(255, 244, 255, 242, ...new TextEncoder().encode('ABOR\r\n')));
    await settle();
    expect(h.control.take()).toEqual(['426 Transfer aborted. Data connection closed.', '226 Abort successful']);
    expect(conn.destroyed).toBe(true);
  });

  it('ABOR with no transfer: 226, and a pending listener is closed', async () => {
    const h = new Harness();
    await h.login();
    await h.send('PASV');
    expect(await h.send('ABOR')).toEqual(['226 Abort successful']);
    expect(h.data.last.closed).toBe(true);
  });

  it('ABOR while waiting for the passive connection', async () => {
    const h = new Harness();
    h.fs.addFile('/f', 'x');
    await h.login();
    await h.send('PASV');
    h.raw('RETR f\r\n');
    await settle();
    expect(await h.send('ABOR')).toEqual(['426 Transfer aborted. Data connection closed.', '226 Abort successful']);
    expect(h.data.last.closed).toBe(true);
  });

  it('ABOR during an upload keeps the partial file (DeleteAbortedStores off)', async () => {
    const h = new Harness();
    await h.login();
    await h.send('TYPE I');
    await h.send('PASV');
    const conn = h.data.last.connect();
    h.raw('STOR part\r\n');
    await settle();
    conn.upload('abc');
    await settle();
    expect(await h.send('ABOR')).toEqual([
      '150 Opening BINARY mode data connection for part',
      '426 Transfer aborted. Data connection closed.',
      '226 Abort successful',
    ]);
    await settle();
    expect(h.fs.text('/part')).toBe('abc');
  });

  it('STAT reports progress; NOOP answers at once', async () => {
    const { h, conn } = await downloading();
    expect(await h.send('STAT')).toEqual(['213 Status: 0 of 100 bytes transferred']);
    expect(await h.send('NOOP')).toEqual(['200 NOOP: data transfer in progress']);
    conn.release();
    await settle(10);
    expect(h.control.take()).toEqual(['226 Transfer complete']);
  });

  it('other commands wait for the transfer and run in order afterwards', async () => {
    const { h, conn } = await downloading();
    h.raw('PWD\r\nSTAT\r\nNOOP\r\nTYPE A\r\n');
    await settle();
    expect(h.control.take()).toEqual([]);
    conn.release();
    await settle(10);
    expect(h.control.take()).toEqual([
      '226 Transfer complete',
      '257 "/" is the current directory',
      '211-Status of \'ftpkit\'',
      ' Connected from 127.0.0.1 (127.0.0.1)',
      ' Logged in as ftptest',
      ' TYPE: BINARY, STRUcture: File, Mode: Stream',
      ' Total bytes transferred for session: 100',
      ' No data connection',
      '211 End of status',
      '200 NOOP command successful',
      '200 Type set to A',
    ]);
  });

  it('QUIT during a transfer aborts it, says goodbye and closes', async () => {
    const { h, conn } = await downloading();
    expect(await h.send('QUIT')).toEqual(['221 Goodbye.']);
    expect(conn.destroyed).toBe(true);
    expect(h.control.closed).toBe(true);
    await h.session.closed;
    await settle();
    expect(h.eventsOf('transfer-end')[0]).toMatchObject({ completion: 'i', reason: 'closed' });
  });

  it('the peer closing during a transfer aborts it quietly', async () => {
    const { h, conn } = await downloading();
    h.session.close();
    expect(conn.destroyed).toBe(true);
    await settle();
    expect(h.control.writes.at(-1)).toBe('150 Opening BINARY mode data connection for big (100 bytes)\r\n');
  });

  it('too many commands queued during a transfer end the session', async () => {
    const { h } = await downloading();
    h.raw('NOOP\r\nPWD\r\n'.repeat(40));
    await settle();
    const replies = h.control.take();
    expect(replies.at(-1)).toBe('421 Too many commands sent during a transfer, closing control connection');
    expect(h.control.closed).toBe(true);
  });
});
