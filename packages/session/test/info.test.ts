import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

describe('informational commands', () => {
  it('unknown and empty commands', async () => {
    const h = new Harness();
    h.start();
    await h.transcript(`
      C: FOO bar
      S: 500 FOO not understood
      C: foo
      S: 500 FOO not understood
    `);
    h.raw('\r\n');
    expect(h.control.take()).toEqual(['500 Invalid command: try being more creative']);
  });

  it('SYST, NOOP, CLNT before login', async () => {
    const h = new Harness();
    h.start();
    await h.transcript(`
      C: SYST
      S: 215 UNIX Type: L8
      C: NOOP
      S: 200 NOOP command successful
    `);
  });

  it('FEAT lists the implemented features, sorted, with MLST facts and UTF8', async () => {
    const h = new Harness();
    h.start();
    const feat = await h.send('FEAT');
    expect(feat[0]).toBe('211-Features:');
    expect(feat.at(-1)).toBe('211 End');
    const lines = feat.slice(1, -1);
    for (const l of lines) expect(l.startsWith(' ')).toBe(true);
    expect(lines).toEqual([...lines].sort());
    expect(lines).toEqual(expect.arrayContaining([' EPRT', ' EPSV', ' MDTM', ' REST STREAM', ' SIZE', ' TVFS', ' UTF8', ' MFMT']));
    expect(lines).toContain(' MLST modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.groupname*;UNIX.mode*;UNIX.owner*;UNIX.ownername*;');
    const noUtf8 = new Harness({ config: { useUtf8: false } });
    noUtf8.start();
    expect(await noUtf8.send('FEAT')).not.toContain(' UTF8');
    expect(await noUtf8.send('OPTS UTF8 ON')).toEqual(['500 OPTS UTF8 not understood']);
  });

  it('OPTS UTF8', async () => {
    const h = new Harness();
    h.start();
    await h.transcript(`
      C: OPTS UTF8 ON
      S: 200 UTF8 set to on
      C: OPTS utf8 off
      S: 200 UTF8 set to off
      C: OPTS UTF8 MAYBE
      S: 501 Invalid UTF8 option
      C: OPTS NOPE
      S: 500 OPTS NOPE not understood
      C: OPTS
      S: 501 Invalid number of parameters
    `);
  });

  it('HELP lists the catalogue; HELP <verb> gives its syntax', async () => {
    const h = new Harness({ config: { serverAdmin: 'ops@example.com' } });
    h.start();
    const help = await h.send('HELP');
    expect(help[0]).toBe("214-The following commands are recognized (* =>'s unimplemented):");
    expect(help.at(-1)).toBe('214 Direct comments to ops@example.com');
    expect(help.join(' ')).toMatch(/\bRETR\b/);
    expect(help.join(' ')).toMatch(/\bXPWD\b/);
    const size = await h.send('HELP size');
    expect(size).toHaveLength(1);
    expect(size[0]).toMatch(/^214 Syntax: SIZE/);
    expect(await h.send('HELP BOGUS')).toEqual(["502 Unknown command 'BOGUS'"]);
  });

  it('STAT alone: no data connection while a listener waits (ProFTPD); the session total once there is one', async () => {
    const h = new Harness();
    h.fs.addFile('/f', 'x'.repeat(42));
    h.start();
    await h.send('USER ftptest');
    await h.send('PASS secret');
    await h.send('PASV');
    await h.transcript(`
      C: STAT
      S: 211-Status of 'ftpkit'
      S:  Connected from 127.0.0.1 (127.0.0.1)
      S:  Logged in as ftptest
      S:  TYPE: ASCII, STRUcture: File, Mode: Stream
      S:  No data connection
      S: 211 End of status
    `);
    await h.send('TYPE I');
    h.data.last.connect();
    expect((await h.send('RETR f')).at(-1)).toBe('226 Transfer complete');
    await h.send('PORT 127,0,0,1,200,1');
    await h.transcript(`
      C: STAT
      S: 211-Status of 'ftpkit'
      S:  Connected from 127.0.0.1 (127.0.0.1)
      S:  Logged in as ftptest
      S:  TYPE: BINARY, STRUcture: File, Mode: Stream
      S:  Total bytes transferred for session: 42
      S:  No data connection
      S: 211 End of status
    `);
  });

  it('HOST (RFC 7151, reference §5.2)', async () => {
    const h = new Harness({ config: { onHost: (name) => (name === 'b.test.example' ? { serverName: 'namebased b' } : undefined) } });
    h.start();
    await h.transcript(`
      C: HOST 127.0.0.1
      S: 220 HOST command successful
      C: HOST 127.0.0.9
      S: 504 127.0.0.9: Unknown hostname provided
      C: HOST nosuch.test.example
      S: 504 nosuch.test.example: Unknown hostname provided
      C: HOST [::1]
      S: 220 HOST command successful
      C: HOST [zz]
      S: 501 [zz]: Invalid IPv6 address provided
      C: HOST 127.0.0.1:2130
      S: 501 127.0.0.1:2130: Invalid hostname provided
      C: HOST b.test.example
      S: 220 ftpkit Server (namebased b) [127.0.0.1]
      C: USER ftptest
      S: 331 Password required for ftptest
      C: HOST 127.0.0.1
      S: 503 Bad sequence of commands
    `);
  });

  it('known but unimplemented verbs answer 502', async () => {
    const h = new Harness();
    h.start();
    const r = await h.send('SMNT /x');
    expect(r).toEqual(['502 SMNT command not implemented']);
  });

  it('a command line longer than the limit answers 500 and the session goes on', async () => {
    const h = new Harness({ maxLineLength: 64 });
    h.start();
    const r = await h.send(`NOOP ${'x'.repeat(100)}`);
    expect(r[0]).toMatch(/^500 /);
    expect(await h.send('NOOP')).toEqual(['200 NOOP command successful']);
  });
});
