import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';
import type { FakeConnection } from './harness.js';

const T = Date.UTC(2026, 10, 24, 5, 0, 0);

async function ready(): Promise<Harness> {
  const h = new Harness();
  h.fs.addDir('/pub', T);
  h.fs.addFile('/pub/hello.txt', 'hello\n', T);
  h.fs.addFile('/pub/b.txt', 'bb', Date.UTC(2019, 0, 2, 3, 4));
  h.fs.addFile('/pub/.hidden', 'h', T);
  h.fs.addDir('/pub/sub', T);
  await h.login();
  return h;
}

/** PASV, the client connects, then `line`; returns replies and what the data connection carried. */
async function viaPasv(h: Harness, line: string): Promise<{ replies: string[]; data: string; conn: FakeConnection }> {
  const pasv = await h.send('PASV');
  expect(pasv[0]).toMatch(/^227 /);
  const conn = h.data.last.connect('127.0.0.1', 50001);
  const replies = await h.send(line);
  return { replies, data: conn.text(), conn };
}

describe('LIST / NLST (ProFTPD mod_ls)', () => {
  it('LIST a directory: ls -l lines, sorted, dot files hidden, CRLF', async () => {
    const h = await ready();
    const r = await viaPasv(h, 'LIST pub');
    expect(r.replies).toEqual(['150 Opening ASCII mode data connection for file list', '226 Transfer complete']);
    expect(r.data).toBe(
      '-rw-r--r--   1 ftp      ftp             2 Jan  2  2019 b.txt\r\n' +
        '-rw-r--r--   1 ftp      ftp             6 Nov 24 05:00 hello.txt\r\n' +
        'drwxr-xr-x   2 ftp      ftp          4096 Nov 24 05:00 sub\r\n',
    );
    expect(r.conn.ended).toBe(true);
  });

  it('LIST -la shows dot files; -l alone is tolerated; flags before a path', async () => {
    const h = await ready();
    await h.send('CWD pub');
    expect((await viaPasv(h, 'LIST -la')).data).toContain(' .hidden\r\n');
    const plain = await viaPasv(h, 'LIST -l');
    expect(plain.data).not.toContain('.hidden');
    expect(plain.data.split('\r\n')).toHaveLength(4);
    await h.send('CWD /');
    expect((await viaPasv(h, 'LIST -al pub')).data).toContain(' .hidden\r\n');
  });

  it('LIST of a file shows that file; TYPE I changes the 150 text', async () => {
    const h = await ready();
    await h.send('TYPE I');
    const r = await viaPasv(h, 'LIST pub/hello.txt');
    expect(r.replies[0]).toBe('150 Opening BINARY mode data connection for file list');
    expect(r.data).toBe('-rw-r--r--   1 ftp      ftp             6 Nov 24 05:00 pub/hello.txt\r\n');
  });

  it('LIST and NLST with a glob in the last segment', async () => {
    const h = await ready();
    expect((await viaPasv(h, 'NLST pub/*.txt')).data).toBe('pub/b.txt\r\npub/hello.txt\r\n');
    expect((await viaPasv(h, 'LIST pub/h*')).data).toBe('-rw-r--r--   1 ftp      ftp             6 Nov 24 05:00 pub/hello.txt\r\n');
    await h.send('PASV');
    expect(await h.send('NLST pub/*.zip')).toEqual(['450 No files found']);
    expect(await h.send('NLST pub/nothing')).toEqual(['450 pub/nothing: No such file or directory']);
    // LIST: an empty listing.
    const none = await viaPasv(h, 'LIST pub/*.zip');
    expect(none.replies).toEqual(['150 Opening ASCII mode data connection for file list', '226 Transfer complete']);
    expect(none.data).toBe('');
  });

  it('NLST names: bare in the cwd, prefixed with the operand otherwise', async () => {
    const h = await ready();
    await h.send('CWD pub');
    expect((await viaPasv(h, 'NLST')).data).toBe('b.txt\r\nhello.txt\r\nsub\r\n');
    await h.send('CWD /');
    expect((await viaPasv(h, 'NLST pub')).data).toBe('pub/b.txt\r\npub/hello.txt\r\npub/sub\r\n');
  });

  it('LIST of a missing path opens the data connection, sends nothing, then answers 450', async () => {
    const h = await ready();
    const r = await viaPasv(h, 'LIST nothing');
    expect(r.replies).toEqual(['150 Opening ASCII mode data connection for file list', '450 nothing: No such file or directory']);
    expect(r.data).toBe('');
    expect(r.conn.ended).toBe(true);
  });

  it('a listing without PASV/PORT is refused with 425', async () => {
    const h = await ready();
    expect(await h.send('LIST')).toEqual(['425 Unable to build data connection: Use PORT or PASV first']);
  });

  it('a data connection lost during a listing answers 426', async () => {
    const h = await ready();
    await h.send('PASV');
    const conn = h.data.last.connect();
    conn.reset();
    expect(await h.send('LIST pub')).toEqual(['150 Opening ASCII mode data connection for file list', '426 Transfer aborted. Data connection closed']);
  });
});

describe('MLSD / MLST (RFC 3659 §7)', () => {
  it('MLSD lists facts in ProFTPD order with cdir and pdir entries and every name, dot files too', async () => {
    const h = await ready();
    const r = await viaPasv(h, 'MLSD pub');
    expect(r.replies).toEqual(['150 Opening ASCII mode data connection for MLSD', '226 Transfer complete']);
    const lines = r.data.split('\r\n');
    // No size for directories; ProFTPD's perm letters and order.
    expect(lines[0]).toMatch(/^modify=20261124050000;perm=flcdmpe;type=cdir;unique=801U\d+;UNIX.group=1000;UNIX.groupname=ftp;UNIX.mode=0755;UNIX.owner=1000;UNIX.ownername=ftp; \.$/);
    expect(lines[1]).toMatch(/^modify=\d{14};perm=flcdmpe;type=pdir;unique=801U\d+;UNIX.group=1000;UNIX.groupname=ftp;UNIX.mode=0755;UNIX.owner=1000;UNIX.ownername=ftp; \.\.$/);
    expect(lines.slice(2, -1).map((l) => l.slice(l.indexOf(' ') + 1))).toEqual(['.hidden', 'b.txt', 'hello.txt', 'sub']);
    expect(lines[4]).toMatch(/^modify=20261124050000;perm=adfrw;size=6;type=file;unique=801U\d+;UNIX.group=1000;UNIX.groupname=ftp;UNIX.mode=0644;UNIX.owner=1000;UNIX.ownername=ftp; hello.txt$/);
    expect(lines[5]).toMatch(/^modify=20261124050000;perm=flcdmpe;type=dir;unique=801U\d+;UNIX.group=1000;UNIX.groupname=ftp;UNIX.mode=0755;UNIX.owner=1000;UNIX.ownername=ftp; sub$/);
    expect(lines[lines.length - 1]).toBe('');
  });

  it('OPTS MLST selects facts; MLST answers on the control connection', async () => {
    const h = await ready();
    await h.transcript(`
      C: OPTS MLST type;size;modify;
      S: 200 MLST OPTS type;size;modify;
      C: MLST pub/hello.txt
      S: 250-Start of list for pub/hello.txt
      S:  modify=20261124050000;size=6;type=file; /pub/hello.txt
      S: 250 End of list
    `);
    // A fact list selecting nothing keeps the space after OPTS; no list at all does not.
    expect(await h.send('OPTS MLST bogus;')).toEqual(['200 MLST OPTS ']);
    await h.transcript(`
      C: MLST pub
      S: 250-Start of list for pub
      S:   /pub
      S: 250 End of list
      C: OPTS MLST
      S: 200 MLST OPTS
      C: MLST nothing
      S: 550 'nothing' cannot be listed
    `);
  });

  it('MLSD refuses a file and a missing directory with 550', async () => {
    const h = await ready();
    await h.send('PASV');
    expect(await h.send('MLSD pub/hello.txt')).toEqual(['550 pub/hello.txt: Not a directory']);
    expect(await h.send('MLSD nothing')).toEqual(['550 nothing: No such file or directory']);
  });

  it('read-only users see read-only perm facts', async () => {
    const h = new Harness();
    h.fs.addFile('/f', 'x', T);
    await h.login('reader', 'pw');
    await h.transcript(`
      C: OPTS MLST type;perm;
      S: 200 MLST OPTS type;perm;
      C: MLST f
      S: 250-Start of list for f
      S:  perm=r;type=file; /f
      S: 250 End of list
    `);
  });
});

describe('STAT <path>', () => {
  it('lists over the control connection (212), always with . and ..; a missing path is a 450', async () => {
    const h = await ready();
    await h.transcript(`
      C: STAT pub
      S: 212-Status of pub:
      S:  drwxr-xr-x   2 ftp      ftp          4096 Nov 24 05:00 .
      S:  drwxr-xr-x   2 ftp      ftp          4096 Nov 24 05:30 ..
      S:  -rw-r--r--   1 ftp      ftp             2 Jan  2  2019 b.txt
      S:  -rw-r--r--   1 ftp      ftp             6 Nov 24 05:00 hello.txt
      S:  drwxr-xr-x   2 ftp      ftp          4096 Nov 24 05:00 sub
      S: 212 End of status
      C: STAT nothing
      S: 450 nothing: No such file or directory
    `);
  });
});
