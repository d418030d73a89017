import { MasqueradeResolver } from '@ftpkit/masquerade';
import { PortAllocator } from '@ftpkit/port-allocator';
import { describe, expect, it } from 'vitest';
import { readyBinary, settle } from './harness.js';

const ready = readyBinary;

describe('PASV (RFC 959 §4.1.2, reference §3.1)', () => {
  it('binds on the control connection local address and advertises it', async () => {
    const h = await ready();
    await h.transcript(`
      C: PASV
      S: 227 Entering Passive Mode (127,0,0,1,234,96).
      C: PASV extra
      S: 501 Invalid number of parameters
    `);
    expect(h.data.listenRequests).toEqual([
      { owner: '127.0.0.1', localAddress: '127.0.0.1', ports: undefined, accept: expect.any(Function), onRejected: expect.any(Function) },
    ]);
    expect(h.eventsOf('passive')[0]).toMatchObject({ message: 'Entering Passive Mode (127,0,0,1,234,96).', port: 60000, exposedPort: 60000 });
  });

  it('advertises the masquerade address and the exposed port, and reports the rule', async () => {
    const masquerade = new MasqueradeResolver({ policies: [{ kind: 'static', address: '203.0.113.7' }] });
    const h = await ready({ config: { masquerade }, remoteAddress: '198.51.100.9', localAddress: '10.0.0.5' });
    h.data.exposeOffset = 7;
    expect(await h.send('PASV')).toEqual(['227 Entering Passive Mode (203,0,113,7,234,103).']);
    expect(h.data.listenRequests[0]).toMatchObject({ localAddress: '10.0.0.5', owner: '198.51.100.9' });
    expect(h.eventsOf('masquerade')[0]).toMatchObject({ ok: true, address: '203.0.113.7', rule: 'static' });
  });

  it('passes the PassivePorts allocator to the data factory and reports a kernel fallback', async () => {
    const passivePorts = new PortAllocator({ ranges: '60000-60010', random: () => 0.5 });
    const h = await ready({ config: { passivePorts } });
    h.data.fallbackNext = true;
    expect(await h.send('PASV')).toEqual(['227 Entering Passive Mode (127,0,0,1,164,203).']);
    expect(h.data.listenRequests[0]?.ports).toBe(passivePorts);
    expect(h.eventsOf('fallback')[0]?.message).toBe(
      'unable to find open port in PassivePorts range 60000-60010: defaulting to INPORT_ANY (consider defining a larger PassivePorts range)',
    );
  });

  it('allocator refusal answers 425 at once', async () => {
    const h = await ready();
    h.data.listenFailure = { reason: 'exhausted', message: 'no free port in PassivePorts range 60000-60010' };
    expect(await h.send('PASV')).toEqual(['425 Unable to build data connection: no free port in PassivePorts range 60000-60010']);
    expect(await h.send('RETR hello.txt')).toEqual(['425 Unable to build data connection: Use PORT or PASV first']);
  });

  it('a new PASV, EPSV or PORT closes the previous listener', async () => {
    const h = await ready();
    await h.send('PASV');
    await h.send('EPSV');
    expect(h.data.listeners.map((l) => l.closed)).toEqual([true, false]);
    await h.send('PASV');
    expect(h.data.listeners.map((l) => l.closed)).toEqual([true, true, false]);
    await h.send('PORT 127,0,0,1,234,96');
    expect(h.data.open).toHaveLength(0);
  });

  it('IPv6 control connection: PASV without an IPv4 answer is 522 pointing to EPSV', async () => {
    const h = await ready({ remoteAddress: '::1', localAddress: '::1' });
    await h.transcript(`
      C: PASV
      S: 522 Network protocol not supported, use EPSV
      C: EPSV
      S: 229 Entering Extended Passive Mode (|||60000|)
    `);
    expect(h.data.listenRequests).toHaveLength(1);
  });

  it('IPv4-mapped local address gives a normal 227', async () => {
    const h = await ready({ remoteAddress: '::ffff:127.0.0.1', localAddress: '::ffff:127.0.0.1' });
    expect(await h.send('PASV')).toEqual(['227 Entering Passive Mode (127,0,0,1,234,96).']);
    // The peer check treats the mapped and plain forms as the same client.
    h.data.last.connect('127.0.0.1');
    expect(await h.send('RETR hello.txt')).toEqual(['150 Opening BINARY mode data connection for hello.txt (6 bytes)', '226 Transfer complete']);
  });

  it('with a masquerade answer, PASV works on IPv6 and logs ProFTPD\'s two lines', async () => {
    const masquerade = new MasqueradeResolver({ policies: [{ kind: 'static', address: '203.0.113.7' }], guard: false });
    const h = await ready({ config: { masquerade }, remoteAddress: '::1', localAddress: '::1' });
    expect(await h.send('PASV')).toEqual(['227 Entering Passive Mode (203,0,113,7,234,96).']);
    expect(h.eventsOf('log').map((e) => e.message)).toContain('please configure your FTP client to use the IPv6-compatible EPSV/EPRT commands');
  });
});

describe('EPSV (RFC 2428 §3-§4, reference §3.2)', () => {
  it('answers the port only; families; errors', async () => {
    const h = await ready();
    await h.transcript(`
      C: EPSV
      S: 229 Entering Extended Passive Mode (|||60000|)
      C: EPSV 1
      S: 229 Entering Extended Passive Mode (|||60001|)
      C: EPSV 2
      S: 229 Entering Extended Passive Mode (|||60002|)
      C: EPSV 3
      S: 522 Network protocol not supported, use (1,2)
      C: EPSV foo
      S: 501 EPSV: unknown network protocol
    `);
  });

  it('with UseIPv6 off (ipv6: false) EPSV and EPRT accept network protocol 1 only', async () => {
    const h = await ready({ config: { ipv6: false } });
    await h.transcript(`
      C: EPSV 2
      S: 522 Network protocol not supported, use (1)
      C: EPSV 3
      S: 522 Network protocol not supported, use (1)
      C: EPRT |2|::1|60123|
      S: 522 Network protocol not supported, use (1)
      C: EPSV 1
      S: 229 Entering Extended Passive Mode (|||60000|)
    `);
  });

  it('EPSV ALL refuses PASV, PORT and EPRT with ProFTPD texts, for the rest of the session', async () => {
    const h = await ready();
    await h.transcript(`
      C: EPSV ALL
      S: 200 EPSV ALL command successful
      C: PASV
      S: 500 Illegal PASV command, EPSV ALL in effect
      C: PORT 127,0,0,1,234,96
      S: 500 Illegal PORT command, EPSV ALL in effect
      C: EPRT |1|127.0.0.1|60123|
      S: 500 Illegal EPRT command, EPSV ALL in effect
      C: PASV with args
      S: 500 Illegal PASV command, EPSV ALL in effect
      C: EPSV
      S: 229 Entering Extended Passive Mode (|||60000|)
      C: ABOR
      S: 226 Abort successful
      C: PASV
      S: 500 Illegal PASV command, EPSV ALL in effect
      C: REIN
      S: 502 REIN command not implemented
      C: PASV
      S: 500 Illegal PASV command, EPSV ALL in effect
    `);
  });
});

describe('passive data connection source check (§7.3, HEAD default)', () => {
  it('rejects a stranger, logs the SECURITY VIOLATION line and keeps waiting for the client', async () => {
    const h = await ready();
    await h.send('PASV');
    const listener = h.data.last;
    const stranger = listener.connect('127.0.0.2', 40001);
    h.raw('RETR hello.txt\r\n');
    await settle();
    expect(stranger.destroyed).toBe(true);
    expect(h.control.take()).toEqual([]);
    expect(h.eventsOf('passive-rejected')[0]?.message).toBe(
      'SECURITY VIOLATION: Passive connection from foreign IP address 127.0.0.2 rejected (does not match client IP address 127.0.0.1).',
    );
    expect(listener.closed).toBe(false);
    const real = listener.connect('127.0.0.1', 40002);
    await settle();
    expect(h.control.take()).toEqual(['150 Opening BINARY mode data connection for hello.txt (6 bytes)', '226 Transfer complete']);
    expect(real.text()).toBe('hello\n');
    expect(listener.closed).toBe(true);
  });

  it('gives the listener the peer check, so a stranger is dropped as it connects and logged once', async () => {
    const h = await ready();
    await h.send('PASV');
    const request = h.data.listenRequests[0];
    expect(request?.accept?.('127.0.0.2')).toBe(false);
    expect(request?.accept?.('::ffff:127.0.0.1')).toBe(true);
    request?.onRejected?.('127.0.0.2');
    expect(h.eventsOf('passive-rejected').map((e) => e.message)).toEqual([
      'SECURITY VIOLATION: Passive connection from foreign IP address 127.0.0.2 rejected (does not match client IP address 127.0.0.1).',
    ]);
  });

  it('AllowForeignAddress on accepts any peer; a predicate accepts what it says', async () => {
    const on = await ready({ config: { allowForeignAddress: true } });
    await on.send('PASV');
    on.data.last.connect('192.0.2.1');
    expect((await on.send('RETR hello.txt'))[1]).toBe('226 Transfer complete');

    const fxp = await ready({ config: { allowForeignAddress: (a) => a === '127.0.0.2' } });
    await fxp.send('PASV');
    const bad = fxp.data.last.connect('127.0.0.3');
    const good = fxp.data.last.connect('::ffff:127.0.0.2');
    expect((await fxp.send('RETR hello.txt'))[1]).toBe('226 Transfer complete');
    expect(bad.destroyed).toBe(true);
    expect(good.text()).toBe('hello\n');
  });
});

describe('passive accept timeout', () => {
  it('closes an unused listener and returns its port', async () => {
    const h = await ready({ config: { timeouts: { passiveAccept: 30 } } });
    await h.send('PASV');
    h.clock.advance(29_000);
    expect(h.data.last.closed).toBe(false);
    h.clock.advance(1_000);
    expect(h.data.last.closed).toBe(true);
    expect(h.eventsOf('timeout')[0]).toMatchObject({ kind: 'passiveAccept', seconds: 30 });
    expect(await h.send('RETR hello.txt')).toEqual(['425 Unable to build data connection: Use PORT or PASV first']);
    expect(h.control.closed).toBe(false);
  });

  it('a transfer waiting for its connection gets 425 when the listener times out', async () => {
    const h = await ready({ config: { timeouts: { passiveAccept: 30 } } });
    await h.send('PASV');
    h.raw('RETR hello.txt\r\n');
    await settle();
    h.clock.advance(30_000);
    await settle();
    expect(h.control.take()).toEqual(['425 Unable to build data connection: Connection timed out']);
    expect(await h.send('NOOP')).toEqual(['200 NOOP command successful']);
  });
});
