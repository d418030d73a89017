/**
 * SessionConfig.pathSettings: AllowOverwrite, AllowStoreRestart, AllowRetrieveRestart
 * and DeleteAbortedStores per path (ProFTPD `<Directory>`), asked with the virtual path
 * of the file the command acts on.
 */
import { describe, expect, it } from 'vitest';
import type { SessionConfig } from '../src/index.js';
import { Harness } from './harness.js';
import type { FakeConnection } from './harness.js';

type PathSettingsHook = NonNullable<SessionConfig['pathSettings']>;

/** `/incoming` and below: overwrite on, store restart off, aborted stores deleted; `/pub`: no resumed downloads. */
function recording(): { hook: PathSettingsHook; asked: string[] } {
  const asked: string[] = [];
  const hook: PathSettingsHook = (path) => {
    asked.push(path);
    if (path === '/incoming' || path.startsWith('/incoming/')) return { allowOverwrite: true, allowStoreRestart: false, deleteAbortedStores: true };
    if (path.startsWith('/pub/')) return { allowRetrieveRestart: false };
    return undefined;
  };
  return { hook, asked };
}

async function ready(config: SessionConfig): Promise<Harness> {
  const h = new Harness({ config });
  h.fs.addDir('/incoming');
  h.fs.addDir('/pub');
  h.fs.addFile('/incoming/old.txt', 'old\n');
  h.fs.addFile('/top.txt', 'top\n');
  h.fs.addFile('/pub/big.bin', '0123456789');
  await h.login();
  await h.send('TYPE I');
  return h;
}

async function pasvConnect(h: Harness): Promise<FakeConnection> {
  expect((await h.send('PASV'))[0]).toMatch(/^227 /);
  return h.data.last.connect('127.0.0.1', 50001);
}

describe('SessionConfig.pathSettings', () => {
  it('AllowOverwrite: the file path decides for STOR and for the RNTO target', async () => {
    const { hook, asked } = recording();
    const h = await ready({ allowOverwrite: false, pathSettings: hook });
    await h.send('PASV');
    expect(await h.send('STOR top.txt')).toEqual(['550 top.txt: Overwrite permission denied']);
    const conn = await pasvConnect(h);
    conn.upload('new\n');
    conn.finish();
    expect(await h.send('STOR incoming/old.txt')).toEqual(['150 Opening BINARY mode data connection for incoming/old.txt', '226 Transfer complete']);
    expect(h.fs.text('/incoming/old.txt')).toBe('new\n');
    await h.transcript(`
      C: CWD /incoming
      S: 250 CWD command successful
      C: RNFR /top.txt
      S: 350 File or directory exists, ready for destination name
      C: RNTO old.txt
      S: 250 Rename successful
      C: RNFR old.txt
      S: 350 File or directory exists, ready for destination name
      C: RNTO /pub/big.bin
      S: 550 /pub/big.bin: Rename permission denied
    `);
    expect(h.fs.text('/incoming/old.txt')).toBe('top\n');
    expect(asked).toEqual(['/top.txt', '/incoming/old.txt', '/incoming/old.txt', '/pub/big.bin']);
  });

  it('AllowStoreRestart and AllowRetrieveRestart per path: 451 where off, resumes elsewhere', async () => {
    const { hook } = recording();
    const h = await ready({ pathSettings: hook });
    await h.send('REST 2');
    await h.send('PASV');
    expect(await h.send('STOR incoming/old.txt')).toEqual(['451 incoming/old.txt: Append/Restart not permitted, try again']);
    await h.send('PASV');
    expect(await h.send('APPE incoming/old.txt')).toEqual(['451 incoming/old.txt: Append/Restart not permitted, try again']);
    expect(h.fs.text('/incoming/old.txt')).toBe('old\n');
    await h.send('REST 3');
    let conn = await pasvConnect(h);
    conn.upload('!\n');
    conn.finish();
    expect(await h.send('STOR top.txt')).toEqual(['150 Opening BINARY mode data connection for top.txt', '226 Transfer complete']);
    expect(h.fs.text('/top.txt')).toBe('top!\n');
    await h.send('REST 4');
    await h.send('PASV');
    expect(await h.send('RETR pub/big.bin')).toEqual(['451 pub/big.bin: Restart not permitted, try again']);
    await h.send('REST 2');
    conn = await pasvConnect(h);
    expect(await h.send('RETR top.txt')).toEqual(['150 Opening BINARY mode data connection for top.txt (3 bytes)', '226 Transfer complete']);
    expect(conn.text()).toBe('p!\n');
  });

  it('DeleteAbortedStores per path: a reset upload is discarded in the directory, kept elsewhere', async () => {
    const { hook } = recording();
    const h = await ready({ pathSettings: hook });
    let conn = await pasvConnect(h);
    conn.upload('part');
    conn.reset();
    expect((await h.send('STOR incoming/p.bin'))[1]).toBe('426 Transfer aborted. Data connection closed');
    expect(h.fs.nodes.has('/incoming/p.bin')).toBe(false);
    conn = await pasvConnect(h);
    conn.upload('part');
    conn.reset();
    expect((await h.send('STOR p.bin'))[1]).toBe('426 Transfer aborted. Data connection closed');
    expect(h.fs.text('/p.bin')).toBe('part');
    expect(h.fs.sinkLog).toEqual(['abort /incoming/p.bin', 'end /p.bin']);
  });

  it('ProFTPD xfer_pre_stor: an existing file is not resumed under AllowOverwrite off, nor appended to under AllowStoreRestart off; new files are', async () => {
    const h = await ready({ allowOverwrite: false, allowStoreRestart: false });
    await h.send('REST 2');
    await h.send('PASV');
    // Both refuse: the overwrite check comes first.
    expect(await h.send('STOR top.txt')).toEqual(['550 top.txt: Overwrite permission denied']);
    await h.send('PASV');
    expect(await h.send('APPE top.txt')).toEqual(['451 top.txt: Append/Restart not permitted, try again']);
    const conn = await pasvConnect(h);
    conn.upload('new');
    conn.finish();
    expect(await h.send('APPE new.txt')).toEqual(['150 Opening BINARY mode data connection for new.txt', '226 Transfer complete']);
    expect(h.fs.text('/new.txt')).toBe('new');
    const appendOnly = await ready({ allowOverwrite: false, allowStoreRestart: true });
    const more = await pasvConnect(appendOnly);
    more.upload('+');
    more.finish();
    // APPE is not an overwrite.
    expect(await appendOnly.send('APPE top.txt')).toEqual(['150 Opening BINARY mode data connection for top.txt', '226 Transfer complete']);
    expect(appendOnly.fs.text('/top.txt')).toBe('top\n+');
  });

  it('undefined answers and missing keys keep the session values; without the hook nothing changes', async () => {
    const h = await ready({ allowOverwrite: false, pathSettings: () => ({}) });
    await h.send('PASV');
    expect(await h.send('STOR top.txt')).toEqual(['550 top.txt: Overwrite permission denied']);
    const plain = await ready({ allowOverwrite: false });
    await plain.send('PASV');
    expect(await plain.send('STOR incoming/old.txt')).toEqual(['550 incoming/old.txt: Overwrite permission denied']);
  });
});
