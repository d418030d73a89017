import { describe, expect, it } from 'vitest';
import type { DataChannelFactory, PassiveResult } from '../src/index.js';
import { FtpSession } from '../src/index.js';
import { Harness, ManualClock, RecordingControl, enc, settle } from './harness.js';

describe('edge paths', () => {
  it('an exception inside the core answers 451 and the session goes on', async () => {
    let boom = true;
    const h = new Harness({
      config: {
        limit: (verb) => {
          if (verb === 'SYST' && boom) {
            boom = false;
            throw new Error('broken checker');
          }
          return 'allow';
        },
      },
    });
    await h.login();
    expect(await h.send('SYST')).toEqual(['451 Requested action aborted: local error in processing']);
    expect(h.eventsOf('error')[0]).toMatchObject({ verb: 'SYST' });
    expect(await h.send('SYST')).toEqual(['215 UNIX Type: L8']);
  });

  it('answers Telnet option negotiation with refusals, in order', async () => {
    const h = new Harness();
    h.start();
    h.raw(Uint8Array.of(255, 253, 1, ...enc.encode('NOOP\r\n')));
    // IAC DO ECHO → IAC WONT ECHO, written before the reply that follows it.
    expect(h.control.writes.slice(-2)).toEqual(['<bytes 255,252,1>', '200 NOOP command successful\r\n']);
  });

  it('invalid UTF-8 is refused with 501 by the decoder', async () => {
    const h = new Harness();
    h.start();
    h.raw(Uint8Array.of(...enc.encode('CWD '), 0xc3, 0x28, 13, 10));
    expect(h.control.take()[0]).toMatch(/^501 /);
  });

  it('CLNT and ACCT before login', async () => {
    const h = new Harness();
    h.start();
    await h.transcript(`
      C: CLNT curl 8.0
      S: 200 OK
      C: CLNT
      S: 501 Invalid number of parameters
      C: ACCT x
      S: 502 ACCT command not implemented
      C: REIN
      S: 502 REIN command not implemented
    `);
  });

  it('MKD and RNFR of the root are refused', async () => {
    const h = new Harness();
    await h.login();
    await h.transcript(`
      C: MKD /
      S: 550 /: File exists
      C: RNFR /..
      S: 550 /..: Permission denied
    `);
  });

  it('a listing over an active connection', async () => {
    const h = new Harness();
    h.fs.addFile('/f', 'x', Date.UTC(2026, 10, 24, 5, 0));
    await h.login();
    await h.send('PORT 127,0,0,1,200,10');
    expect(await h.send('NLST')).toEqual(['150 Opening ASCII mode data connection for file list', '226 Transfer complete']);
    expect(h.data.lastConnection.text()).toBe('f\r\n');
    expect(h.data.connectRequests[0]).toEqual({ host: '127.0.0.1', port: 51210, localAddress: '127.0.0.1' });
  });

  it('STAT during a listing reports bytes without a total', async () => {
    const h = new Harness();
    for (let i = 0; i < 300; i++) h.fs.addFile(`/f${i}`, 'x');
    await h.login();
    await h.send('PASV');
    const conn = h.data.last.connect();
    conn.hold();
    h.raw('NLST\r\n');
    await settle();
    expect(h.control.take()).toEqual(['150 Opening ASCII mode data connection for file list']);
    expect(await h.send('STAT')).toEqual(['213 Status: 0 bytes transferred']);
    conn.release();
    await settle(10);
    expect(h.control.take()).toEqual(['226 Transfer complete']);
  });

  it('ABOR while an active connection is being made', async () => {
    let resolveConnect!: (v: { ok: false; message: string }) => void;
    const h = new Harness();
    h.fs.addFile('/f', 'x');
    h.data.connect = (): Promise<{ ok: false; message: string }> => new Promise((r) => (resolveConnect = r));
    await h.login();
    await h.send('PORT 127,0,0,1,200,10');
    h.raw('RETR f\r\n');
    await settle();
    expect(await h.send('ABOR')).toEqual(['426 Transfer aborted. Data connection closed.', '226 Abort successful']);
    resolveConnect({ ok: false, message: 'Connection refused' });
    await settle();
    expect(h.control.take()).toEqual([]);
    expect(await h.send('NOOP')).toEqual(['200 NOOP command successful']);
  });

  it('a listener that arrives after the session closed is closed at once', async () => {
    let finish!: (r: PassiveResult) => void;
    let closed = false;
    const data: DataChannelFactory = {
      listen: () => new Promise<PassiveResult>((r) => (finish = r)),
      connect: async () => ({ ok: false, message: 'no' }),
    };
    const h = new Harness();
    const control = new RecordingControl();
    const session = new FtpSession({ control, data, authenticator: h.auth, clock: new ManualClock(), config: {} });
    session.start();
    session.receive(enc.encode('USER ftptest\r\nPASS secret\r\nPASV\r\n'));
    await settle();
    session.close();
    finish({
      ok: true,
      listener: { port: 1, exposedPort: 1, fallback: false, accept: async () => undefined, close: () => (closed = true) },
    });
    await settle();
    expect(closed).toBe(true);
    expect(control.take()).toEqual(['220 ftpkit Server (ftpkit) [127.0.0.1]', '331 Password required for ftptest', '230 User ftptest logged in']);
  });

  it('STOU gives up after repeated collisions', async () => {
    const h = new Harness({ random: () => 0.5 });
    await h.login();
    await h.send('TYPE I');
    await h.send('PASV');
    const name = `/ftp${Math.floor(0.5 * 0x7fffffff).toString(36).padStart(6, '0').slice(-6)}`;
    h.fs.addFile(name, 'taken');
    expect(await h.send('STOU')).toEqual([`550 ${name.slice(1)}: File exists`]);
  });

  it('PORT from an IPv6 client with AllowForeignAddress on is accepted', async () => {
    const h = new Harness({ config: { allowForeignAddress: true }, remoteAddress: '2001:db8::1', localAddress: '2001:db8::2' });
    await h.login();
    expect(await h.send('PORT 192,0,2,1,234,96')).toEqual(['200 PORT command successful']);
  });
});
