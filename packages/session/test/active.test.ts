import { MasqueradeResolver } from '@ftpkit/masquerade';
import { describe, expect, it } from 'vitest';
import { readyBinary } from './harness.js';

const ready = readyBinary;

describe('PORT (RFC 959 §4.1.2, reference §3.3 / §9.1)', () => {
  it('refuses in ProFTPD\'s order with its texts and log lines, before any connection', async () => {
    const h = await ready();
    await h.transcript(`
      C: PORT 1,2,3,4,234,96
      S: 500 Illegal PORT command
      C: PORT 127,0,0,1,0,21
      S: 500 Illegal PORT command
      C: PORT 127,0,0,1,1,2
      S: 500 Illegal PORT command
      C: PORT 1,2,3,4,0,21
      S: 500 Illegal PORT command
      C: PORT 1,2,3
      S: 501 Illegal PORT command
      C: PORT 100,200,300,400,1,2
      S: 501 Illegal PORT command
      C: PORT 127,0,0,1,0,0
      S: 501 Illegal PORT command
      C: PORT 0,0,0,0,234,96
      S: 501 Illegal PORT command
      C: PORT 127,0,0,1,234,96 x
      S: 501 Invalid number of parameters
      C: PORT
      S: 501 Invalid number of parameters
      C: PORT 127,0,0,1,234,96
      S: 200 PORT command successful
    `);
    expect(h.eventsOf('port-refused').map((e) => e.message)).toEqual([
      'Refused PORT 1,2,3,4,234,96 (address mismatch)',
      'Refused PORT 127,0,0,1,0,21 (port 21 below 1024, possible bounce attack)',
      'Refused PORT 127,0,0,1,1,2 (port 258 below 1024, possible bounce attack)',
      'Refused PORT 1,2,3,4,0,21 (address mismatch)',
    ]);
    expect(h.data.connectRequests).toEqual([]);
  });

  it('an RFC 1918 address from a public client is refused, pointing to passive mode', async () => {
    const masquerade = new MasqueradeResolver({ policies: [{ kind: 'static', address: '203.0.113.7' }] });
    const h = await ready({ config: { masquerade }, remoteAddress: '198.51.100.9', localAddress: '10.0.0.5' });
    expect(await h.send('PORT 10,1,2,3,234,96')).toEqual([
      '500 Illegal PORT command: private address 10.1.2.3 from public client; use passive mode (PASV/EPSV)',
    ]);
    expect(await h.send('EPRT |1|192.168.1.9|60000|')).toEqual([
      '500 Illegal EPRT command: private address 192.168.1.9 from public client; use passive mode (PASV/EPSV)',
    ]);
    expect(h.eventsOf('port-refused').map((e) => e.reason)).toEqual(['private-address', 'private-address']);
    expect(h.data.connectRequests).toEqual([]);
  });

  it('allowPortRewrite replaces it by the client address, logging ProFTPD\'s line', async () => {
    const h = await ready({ config: { allowPortRewrite: true }, remoteAddress: '198.51.100.9', localAddress: '203.0.113.7' });
    expect(await h.send('PORT 10,1,2,3,234,96')).toEqual(['200 PORT command successful']);
    expect(h.eventsOf('port-rewritten')[0]?.message).toBe(
      "client sent RFC1918 address '10.1.2.3' in PORT command, ignoring it and using '198.51.100.9'",
    );
    expect(await h.send('RETR hello.txt')).toEqual(['150 Opening BINARY mode data connection for hello.txt (6 bytes)', '226 Transfer complete']);
    expect(h.data.connectRequests).toEqual([{ host: '198.51.100.9', port: 60000, localAddress: '203.0.113.7' }]);
  });

  it('a private client on a private server keeps its private address', async () => {
    const h = await ready({ remoteAddress: '192.168.1.20', localAddress: '192.168.1.1' });
    expect(await h.send('PORT 192,168,1,20,234,96')).toEqual(['200 PORT command successful']);
  });

  it('IPv6 control connection: PORT is an IPv4/IPv6 mismatch', async () => {
    const h = await ready({ remoteAddress: '::1', localAddress: '::1' });
    await h.transcript(`
      C: PORT 127,0,0,1,234,96
      S: 500 Illegal PORT command
      C: EPRT |2|::1|60123|
      S: 200 EPRT command successful
      C: EPRT |1|127.0.0.1|60123|
      S: 500 Illegal EPRT command
      C: EPRT |2|fd00::99|60123|
      S: 500 Illegal EPRT command
    `);
    expect(h.eventsOf('port-refused').map((e) => e.message)).toEqual([
      'Refused PORT 127,0,0,1,234,96 (IPv4/IPv6 address mismatch)',
      'Refused EPRT |1|127.0.0.1|60123| (address mismatch)',
      'Refused EPRT |2|fd00::99|60123| (address mismatch)',
    ]);
  });

  it('AllowForeignAddress predicate (a <Class>) allows what it names', async () => {
    const h = await ready({ config: { allowForeignAddress: (a) => a === '127.0.0.2' } });
    await h.transcript(`
      C: PORT 127,0,0,2,234,96
      S: 200 PORT command successful
      C: PORT 127,0,0,3,234,96
      S: 500 Illegal PORT command
      C: EPRT |1|127.0.0.2|60000|
      S: 200 EPRT command successful
      C: EPRT |1|127.0.0.3|60000|
      S: 500 Illegal EPRT command
    `);
    expect(h.eventsOf('port-refused').map((e) => e.message)).toEqual([
      'Refused PORT 127,0,0,3,234,96 (address mismatch)',
      'Refused EPRT |1|127.0.0.3|60000| (address mismatch)',
    ]);
  });

  it('AllowForeignAddress on still refuses low ports', async () => {
    const h = await ready({ config: { allowForeignAddress: true } });
    expect(await h.send('PORT 1,2,3,4,234,96')).toEqual(['200 PORT command successful']);
    expect(await h.send('PORT 1,2,3,4,0,80')).toEqual(['500 Illegal PORT command']);
  });
});

describe('EPRT (RFC 2428 §2, reference §3.4)', () => {
  it('matches the §9.1 transcript', async () => {
    const h = await ready();
    await h.transcript(`
      C: EPRT |1|127.0.0.1|60123|
      S: 200 EPRT command successful
      C: EPRT |1|1.2.3.4|60123|
      S: 500 Illegal EPRT command
      C: EPRT |1|127.0.0.1|123|
      S: 500 Illegal EPRT command
      C: EPRT |2|::1|60123|
      S: 500 Illegal EPRT command
      C: EPRT |2|::ffff:127.0.0.1|60123|
      S: 200 EPRT command successful
      C: EPRT |3|127.0.0.1|60123|
      S: 522 Network protocol not supported, use (1,2)
      C: EPRT |x|127.0.0.1|60123|
      S: 522 Network protocol not supported, use (1,2)
      C: EPRT |1|127.0.0.1|60123
      S: 501 Illegal EPRT command
      C: EPRT |1|300.1.1.1|60123|
      S: 501 Illegal EPRT command
      C: EPRT ,1,127.0.0.1,60123,
      S: 200 EPRT command successful
    `);
    expect(h.eventsOf('port-refused').map((e) => e.message)).toEqual([
      'Refused EPRT |1|1.2.3.4|60123| (address mismatch)',
      'Refused EPRT |1|127.0.0.1|123| (port 123 below 1024, possible bounce attack)',
      'Refused EPRT |2|::1|60123| (address mismatch)',
    ]);
  });
});

describe('active transfers', () => {
  it('connects from the control connection local address, then 150/226', async () => {
    const h = await ready();
    await h.send('PORT 127,0,0,1,234,96');
    expect(await h.send('RETR hello.txt')).toEqual(['150 Opening BINARY mode data connection for hello.txt (6 bytes)', '226 Transfer complete']);
    expect(h.data.connectRequests).toEqual([{ host: '127.0.0.1', port: 60000, localAddress: '127.0.0.1' }]);
    expect(h.data.lastConnection.text()).toBe('hello\n');
    // The address is used once: the next transfer needs a new PORT/PASV.
    expect(await h.send('RETR hello.txt')).toEqual(['425 Unable to build data connection: Use PORT or PASV first']);
  });

  it('a failed connect answers 425 with the reason', async () => {
    const h = await ready();
    await h.send('EPRT |1|127.0.0.1|60000|');
    h.data.connectFailure = 'Connection refused';
    expect(await h.send('RETR hello.txt')).toEqual(['425 Unable to build data connection: Connection refused']);
    expect(h.eventsOf('transfer-end')[0]).toMatchObject({ completion: 'i', reason: 'connect-failed' });
  });
});
