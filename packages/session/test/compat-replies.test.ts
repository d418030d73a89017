// Replies checked against ProFTPD 1.3.8 (Debian) on the wire with bench/compat/diff.mjs:
// the same command sent to both servers, ProFTPD's answer written here.
import { describe, expect, it } from 'vitest';
import { Harness, settle } from './harness.js';

async function ready(): Promise<Harness> {
  const h = new Harness();
  h.fs.addFile('/hello.txt', 'hello\n');
  await h.login();
  return h;
}

describe('argument checks answered as ProFTPD answers them', () => {
  it('USER without a name', async () => {
    const h = new Harness();
    h.start();
    await h.transcript(`
      C: USER
      S: 500 USER: command requires a parameter
      C: USER ftptest
      S: 331 Password required for ftptest
    `);
  });

  it('TYPE is accepted before login', async () => {
    const h = new Harness();
    h.start();
    await h.transcript(`
      C: TYPE I
      S: 200 Type set to I
      C: TYPE AB
      S: 504 TYPE not implemented for 'AB' parameter
      C: MODE S
      S: 530 Please login with USER and PASS
    `);
  });

  it('NOOP ignores an argument; blanks around a verb are no argument', async () => {
    const h = await ready();
    await h.transcript(`
      C: NOOP x
      S: 200 NOOP command successful
    `);
    h.raw('NOOP  \r\n PWD\r\nPWD   \r\nCWD\t/\r\n');
    await settle();
    expect(h.control.take()).toEqual([
      '200 NOOP command successful',
      '257 "/" is the current directory',
      '257 "/" is the current directory',
      '250 CWD command successful',
    ]);
  });

  it('TYPE, MODE and STRU', async () => {
    const h = await ready();
    await h.transcript(`
      C: TYPE
      S: 500 'TYPE' not understood
      C: TYPE A N X
      S: 500 'TYPE A N X' not understood
      C: TYPE AB
      S: 504 TYPE not implemented for 'AB' parameter
      C: TYPE L 16
      S: 504 TYPE not implemented for 'L' parameter
      C: TYPE L
      S: 504 TYPE not implemented for 'L' parameter
      C: TYPE A T
      S: 200 Type set to A
      C: TYPE I X
      S: 200 Type set to I
      C: MODE
      S: 501 'MODE' not understood
      C: MODE S X
      S: 501 'MODE S X' not understood
      C: STRU
      S: 501 'STRU' not understood
    `);
  });

  it('ALLO', async () => {
    const h = await ready();
    await h.transcript(`
      C: ALLO
      S: 504 'ALLO' not understood
      C: ALLO abc
      S: 504 abc: Invalid ALLO argument
      C: ALLO 5 R
      S: 504 'ALLO 5 R' not understood
      C: ALLO 100 R 10
      S: 202 No storage allocation necessary
      C: ALLO -1
      S: 202 No storage allocation necessary
    `);
  });
});

describe('SITE and HELP', () => {
  it('SITE without a subcommand', async () => {
    const h = await ready();
    await h.transcript(`
      C: SITE
      S: 500 'SITE' requires parameters
    `);
  });

  it('SITE CHMOD names the whole SITE argument when the change is refused', async () => {
    const h = new Harness({ config: { limit: (verb) => (verb === 'SITE_CHMOD' ? 'deny' : 'allow') } });
    h.fs.addFile('/hello.txt', 'hello\n');
    h.fs.addFile('/root.txt', 'x');
    await h.login();
    await h.transcript(`
      C: SITE CHMOD 777 hello.txt
      S: 550 CHMOD 777 hello.txt: Permission denied
    `);
    const free = await ready();
    free.fs.addFile('/root.txt', 'x');
    free.fs.faults.push({ op: 'chmod', path: '/root.txt', code: 'EPERM' });
    await free.transcript(`
      C: SITE CHMOD 644 root.txt
      S: 550 CHMOD 644 root.txt: Operation not permitted
      C: SITE CHMOD 644 nosuch
      S: 550 nosuch: No such file or directory
    `);
  });

  it('HELP SITE lists the SITE commands', async () => {
    const h = await ready();
    expect(await h.send('HELP SITE')).toEqual(['214-CHMOD', ' CHGRP*', '214 HELP']);
  });

  it('HELP lists the commands in ProFTPD order, eight a row padded to eight columns', async () => {
    const h = await ready();
    const help = await h.send('HELP');
    expect(help[1]).toBe(' CWD     XCWD    CDUP    XCUP    SMNT*   QUIT    PORT    PASV    ');
    expect(help[2]).toBe(' EPRT    EPSV    ALLO    RNFR    RNTO    DELE    MDTM    RMD     ');
    expect(help[7]).toBe(' ACCT*   REIN*   LIST    NLST    STAT    SITE    MLSD    MLST    ');
    expect(help).toHaveLength(9);
  });
});

describe('OPTS UTF8', () => {
  it('one boolean word; none or more is not understood', async () => {
    const h = await ready();
    await h.transcript(`
      C: OPTS UTF8
      S: 501 'OPTS UTF8' not understood
      C: OPTS UTF8 ON X
      S: 501 'OPTS UTF8' not understood
      C: OPTS UTF8 NO
      S: 200 UTF8 set to off
    `);
  });
});

describe('listings with -a', () => {
  async function listed(h: Harness, command: string): Promise<string> {
    const pasv = await h.send('PASV');
    expect(pasv[0]).toMatch(/^227 /);
    const conn = h.data.last.connect('127.0.0.1', 50001);
    const replies = await h.send(command);
    expect(replies).toEqual([expect.stringMatching(/^150 /), '226 Transfer complete']);
    return conn.text();
  }

  it('LIST -a and NLST -a show . and .. sorted in; STAT -la is the status of .', async () => {
    const h = new Harness();
    h.fs.addDir('/d');
    h.fs.addFile('/d/"q"', 'x');
    h.fs.addFile('/d/b.txt', 'x');
    await h.login();
    await h.send('CWD d');
    const list = await listed(h, 'LIST -la');
    expect(list.split('\r\n').map((l) => l.slice(l.lastIndexOf(' ') + 1))).toEqual(['"q"', '.', '..', 'b.txt', '']);
    expect(await listed(h, 'NLST -a')).toBe('"q"\r\n.\r\n..\r\nb.txt\r\n');
    expect(await listed(h, 'NLST')).toBe('"q"\r\nb.txt\r\n');
    const stat = await h.send('STAT -la');
    expect(stat[0]).toBe('212-Status of .:');
    expect(stat.slice(1, -1).map((l) => l.slice(l.lastIndexOf(' ') + 1))).toEqual(['"q"', '.', '..', 'b.txt']);
    expect(stat.at(-1)).toBe('212 End of status');
  });
});

describe('LIST -R and STAT with a glob', () => {
  it('LIST -R lists each readable subdirectory after its parent, depth first', async () => {
    const h = new Harness();
    h.fs.addFile('/a.txt', 'x', Date.UTC(2026, 10, 24, 5, 0, 0));
    h.fs.addDir('/d');
    h.fs.addDir('/d/e');
    h.fs.addFile('/d/e/f.txt', 'x', Date.UTC(2026, 10, 24, 5, 0, 0));
    h.fs.addDir('/empty');
    h.fs.faults.push({ op: 'list', path: '/empty', code: 'EACCES' });
    await h.login();
    expect(await h.send('PASV')).toHaveLength(1);
    const conn = h.data.last.connect('127.0.0.1', 50001);
    expect(await h.send('LIST -R')).toEqual(['150 Opening ASCII mode data connection for file list', '226 Transfer complete']);
    const names = conn
      .text()
      .split('\r\n')
      .map((l) => (l.includes(' ') ? l.slice(l.lastIndexOf(' ') + 1) : l));
    expect(names).toEqual(['a.txt', 'd', 'empty', '', 'd:', 'e', '', 'd/e:', 'f.txt', '']);
  });

  it('LIST -R reads each subdirectory only when the data connection takes the lines before it', async () => {
    const h = new Harness();
    h.fs.addDir('/d');
    h.fs.addDir('/d/e');
    h.fs.addFile('/d/e/f.txt', 'x');
    const listed: string[] = [];
    const list = h.fs.list.bind(h.fs);
    h.fs.list = (path: string) => {
      listed.push(path);
      return list(path);
    };
    await h.login();
    await h.send('PASV');
    const conn = h.data.last.connect('127.0.0.1', 50001);
    conn.hold();
    expect(await h.send('LIST -R')).toEqual(['150 Opening ASCII mode data connection for file list']);
    expect(listed).toEqual(['/']);
    conn.release();
    await settle();
    expect(h.control.take()).toEqual(['226 Transfer complete']);
    expect(listed).toEqual(['/', '/d', '/d/e']);
    expect(conn.text()).toContain('\r\nd/e:\r\n');
  });

  it('STAT takes its operand literally', async () => {
    const h = await ready();
    expect(await h.send('STAT *.txt')).toEqual(['450 *.txt: No such file or directory']);
  });
});

describe('USER after login', () => {
  it('the same name is accepted again until a PASS is refused', async () => {
    const h = new Harness();
    h.start();
    await h.transcript(`
      C: USER ftptest
      S: 331 Password required for ftptest
      C: PASS secret
      S: 230 User ftptest logged in
      C: USER ftptest
      S: 230 User ftptest logged in
      C: USER other
      S: 501 Reauthentication not supported
      C: USER ftptest
      S: 230 User ftptest logged in
      C: PASS
      S: 503 You are already logged in
      C: USER ftptest
      S: 501 Reauthentication not supported
    `);
  });
});
