import { describe, expect, it } from 'vitest';
import { portError } from '../src/index.js';
import { Harness } from './harness.js';

async function ready(): Promise<Harness> {
  const h = new Harness();
  h.fs.addDir('/pub');
  h.fs.addFile('/pub/hello.txt', 'hello\n', Date.UTC(2026, 10, 24, 5, 0, 0));
  h.fs.addDir('/pub/sub');
  await h.login();
  return h;
}

describe('navigation (RFC 959 §4.1.1, §4.1.3)', () => {
  it('PWD, CWD, CDUP and their X aliases', async () => {
    const h = await ready();
    await h.transcript(`
      C: CWD pub
      S: 250 CWD command successful
      C: XPWD
      S: 257 "/pub" is the current directory
      C: CWD sub
      S: 250 CWD command successful
      C: CDUP
      S: 250 CDUP command successful
      C: XCUP
      S: 250 XCUP command successful
      C: PWD
      S: 257 "/" is the current directory
      C: CDUP
      S: 250 CDUP command successful
      C: PWD
      S: 257 "/" is the current directory
      C: CWD /pub/hello.txt
      S: 550 /pub/hello.txt: Not a directory
      C: CWD nowhere
      S: 550 nowhere: No such file or directory
      C: XCWD ../../pub/../pub
      S: 250 XCWD command successful
      C: PWD
      S: 257 "/pub" is the current directory
    `);
  });

  it('CWD and CDUP ask the file system\'s enter() when it has one (550 Permission denied)', async () => {
    const h = await ready();
    const entered: string[] = [];
    Object.assign(h.fs, {
      enter: (path: string): Promise<void> => {
        entered.push(path);
        return path === '/pub' ? Promise.reject(portError('EACCES')) : Promise.resolve();
      },
    });
    await h.transcript(`
      C: CWD pub
      S: 550 pub: Permission denied
      C: PWD
      S: 257 "/" is the current directory
      C: CWD /pub/sub
      S: 250 CWD command successful
      C: CDUP
      S: 550 ..: Permission denied
      C: PWD
      S: 257 "/pub/sub" is the current directory
    `);
    expect(entered).toEqual(['/pub', '/pub/sub', '/pub']);
  });

  it('quotes 257 path names (RFC 959 Appendix II)', async () => {
    const h = await ready();
    await h.transcript(`
      C: MKD say "hi"
      S: 257 "/say ""hi""" - Directory successfully created
      C: CWD say "hi"
      S: 250 CWD command successful
      C: PWD
      S: 257 "/say ""hi""" is the current directory
    `);
  });

  it('MKD, RMD, DELE with ProFTPD texts and errno replies', async () => {
    const h = await ready();
    await h.transcript(`
      C: MKD new
      S: 257 "/new" - Directory successfully created
      C: XMKD new
      S: 550 new: File exists
      C: MKD missing/deep
      S: 550 missing/deep: No such file or directory
      C: RMD pub
      S: 550 pub: Directory not empty
      C: RMD new
      S: 250 RMD command successful
      C: XRMD new
      S: 550 new: No such file or directory
      C: DELE pub/hello.txt
      S: 250 DELE command successful
      C: DELE pub/hello.txt
      S: 550 pub/hello.txt: No such file or directory
      C: DELE pub
      S: 550 pub: Is a directory
      C: RMD /
      S: 550 /: Device or resource busy
      C: DELE /
      S: 550 /: Is a directory
      C: DELE ..
      S: 550 ..: Is a directory
    `);
    expect(h.fs.nodes.has('/pub/hello.txt')).toBe(false);
  });

  it('RNFR/RNTO, including sequence errors and overwrite refusal', async () => {
    const h = await ready();
    h.fs.addFile('/other.txt', 'x');
    await h.transcript(`
      C: RNTO x
      S: 503 Bad sequence of commands
      C: RNFR nothing
      S: 550 nothing: No such file or directory
      C: RNFR pub/hello.txt
      S: 350 File or directory exists, ready for destination name
      C: NOOP
      S: 200 NOOP command successful
      C: RNTO pub/moved.txt
      S: 250 Rename successful
      C: RNTO again.txt
      S: 503 Bad sequence of commands
      C: RNFR pub/moved.txt
      S: 350 File or directory exists, ready for destination name
      C: RNTO /../moved.txt
      S: 250 Rename successful
    `);
    expect(h.fs.text('/moved.txt')).toBe('hello\n');
    const strict = new Harness({ config: { allowOverwrite: false } });
    strict.fs.addFile('/a', '1');
    strict.fs.addFile('/b', '2');
    await strict.login();
    await strict.transcript(`
      C: RNFR a
      S: 350 File or directory exists, ready for destination name
      C: RNTO b
      S: 550 b: Rename permission denied
      C: RNFR a
      S: 350 File or directory exists, ready for destination name
      C: RNTO /
      S: 553 /: File name not allowed
    `);
  });

  it('SIZE and MDTM (RFC 3659 §3-§4)', async () => {
    const h = await ready();
    await h.transcript(`
      C: SIZE pub/hello.txt
      S: 550 SIZE not allowed in ASCII mode
      C: TYPE I
      S: 200 Type set to I
      C: SIZE pub/hello.txt
      S: 213 6
      C: SIZE pub
      S: 550 pub: not a regular file
      C: SIZE none
      S: 550 none: No such file or directory
      C: MDTM pub/hello.txt
      S: 213 20261124050000
      C: MDTM pub
      S: 550 pub: not a plain file
    `);
  });

  it('MFMT (draft-somers-ftp-mfxx)', async () => {
    const h = await ready();
    await h.transcript(`
      C: MFMT 20200102030405 pub/hello.txt
      S: 213 Modify=20200102030405; pub/hello.txt
      C: MDTM pub/hello.txt
      S: 213 20200102030405
      C: MFMT 2020 pub/hello.txt
      S: 501 2020: Invalid argument
      C: MFMT 20201302030405 pub/hello.txt
      S: 501 pub/hello.txt: Invalid argument
      C: MFMT 20200102030405.5 pub/hello.txt
      S: 213 Modify=20200102030405; pub/hello.txt
      C: MFMT 20200102030405
      S: 501 Invalid number of parameters
      C: MFMT 20200102030405 missing
      S: 550 missing: No such file or directory
    `);
  });

  it('a pending RNFR: HELP, NOOP and STAT may come before RNTO; anything else is refused with 501 and the RNFR stays pending (ProFTPD)', async () => {
    const h = await ready();
    await h.transcript(`
      C: RNFR pub/hello.txt
      S: 350 File or directory exists, ready for destination name
      C: TYPE I
      S: 501 Bad sequence of commands
      C: CWD pub
      S: 501 Bad sequence of commands
      C: RNFR other.txt
      S: 501 Bad sequence of commands
      C: PASV
      S: 501 Bad sequence of commands
      C: XYZZY
      S: 500 XYZZY not understood
      C: NOOP
      S: 200 NOOP command successful
      C: RNTO renamed.txt
      S: 250 Rename successful
      C: PWD
      S: 257 "/" is the current directory
      C: RNFR renamed.txt
      S: 350 File or directory exists, ready for destination name
      C: RNTO
      S: 501 Invalid number of parameters
      C: TYPE I
      S: 200 Type set to I
    `);
    expect(h.fs.text('/renamed.txt')).toBe('hello\n');
  });

  it('SITE CHMOD and SITE HELP', async () => {
    const h = await ready();
    await h.transcript(`
      C: SITE CHMOD 600 pub/hello.txt
      S: 200 SITE CHMOD command successful
      C: SITE CHMOD 9x pub/hello.txt
      S: 550 '9x': invalid mode
      C: SITE CHMOD 600
      S: 500-'SITE CHMOD 600' not understood
      S: 500 SITE not understood
      C: SITE CHMOD
      S: 500-'SITE CHMOD' not understood
      S: 500 SITE not understood
      C: SITE CHGRP
      S: 500-'SITE CHGRP' not understood
      S: 500 SITE not understood
      C: SITE CHMOD 600 nope
      S: 550 nope: No such file or directory
      C: SITE HELP
      S: 214-The following SITE commands are recognized (* =>'s unimplemented)
      S:  CHMOD
      S:  CHGRP*
      S:  HELP
      S: 214 Direct comments to root@localhost
      C: SITE ZAP
      S: 500 'SITE ZAP' not understood
    `);
    expect(h.fs.nodes.get('/pub/hello.txt')?.mode).toBe(0o600);
  });

  it('refuses writes for read-only users with 550', async () => {
    const h = new Harness();
    h.fs.addFile('/f', 'x');
    await h.login('reader', 'pw');
    await h.transcript(`
      C: DELE f
      S: 550 f: Permission denied
      C: MKD d
      S: 550 d: Permission denied
      C: RMD d
      S: 550 d: Permission denied
      C: RNFR f
      S: 550 f: Permission denied
      C: STOR f
      S: 550 f: Permission denied
      C: APPE f
      S: 550 f: Permission denied
      C: STOU
      S: 550 STOU: Permission denied
      C: MFMT 20200102030405 f
      S: 550 20200102030405 f: Permission denied
      C: SITE CHMOD 777 f
      S: 550 f: Permission denied
      C: SIZE f
      S: 550 SIZE not allowed in ASCII mode
    `);
    expect(h.fs.text('/f')).toBe('x');
  });

  it('refuses NUL bytes in paths with 501 and treats backslashes literally', async () => {
    const h = await ready();
    h.raw('CWD pub\0x\r\n');
    await new Promise((r) => setImmediate(r));
    const nul = h.control.take();
    expect(nul).toEqual(['501 Invalid path: NUL byte in file name']);
    await h.transcript(`
      C: MKD a\\..\\b
      S: 257 "/a\\..\\b" - Directory successfully created
    `);
    expect(h.fs.nodes.has('/a\\..\\b')).toBe(true);
  });
});
