import fc from 'fast-check';
import { text } from './arbitraries.js';
import { describe, expect, it } from 'vitest';
import { formatEpsv, formatPasv, parseEpsv, parsePasv } from '../src/index.js';

describe('formatPasv (RFC 959 §4.1.2; ProFTPD text)', () => {
  it.each([
    ['203.0.113.7', 60007, 'Entering Passive Mode (203,0,113,7,234,103).'],
    ['127.0.0.1', 1, 'Entering Passive Mode (127,0,0,1,0,1).'],
    ['0.0.0.0', 65535, 'Entering Passive Mode (0,0,0,0,255,255).'],
    ['::ffff:192.0.2.1', 256, 'Entering Passive Mode (192,0,2,1,1,0).'],
    ['::FFFF:192.0.2.1', 60000, 'Entering Passive Mode (192,0,2,1,234,96).'],
  ])('%s:%d', (ip, port, text) => {
    expect(formatPasv(ip, port)).toBe(text);
  });

  it.each([['::1'], ['2001:db8::1'], ['256.1.1.1'], ['1.2.3'], ['01.2.3.4'], ['1.2.3.4 '], ['host.example'], [''], ['1.2.3.4.5'], ['1..3.4'], ['.1.2.3'], ['::ffff:1.2.3'], ['1.2.3.1000'], ['::ffff:']])(
    'refuses address %j with ERR_REPLY_ADDRESS_INVALID',
    (ip) => {
      expect(() => formatPasv(ip, 60000)).toThrow(expect.objectContaining({ code: 'ERR_REPLY_ADDRESS_INVALID' }));
    },
  );

  it.each([[0], [65536], [-1], [1.5]])('refuses port %d with ERR_REPLY_PORT_INVALID', (port) => {
    expect(() => formatPasv('1.2.3.4', port)).toThrow(expect.objectContaining({ code: 'ERR_REPLY_PORT_INVALID' }));
    expect(() => formatEpsv(port)).toThrow(expect.objectContaining({ code: 'ERR_REPLY_PORT_INVALID' }));
  });
});

describe('formatEpsv (RFC 2428 §3)', () => {
  it('has no address and no trailing period', () => {
    expect(formatEpsv(60000)).toBe('Entering Extended Passive Mode (|||60000|)');
  });
});

describe('parsePasv: the variants real servers send', () => {
  const ok: Array<[string, string, number]> = [
    ['227 Entering Passive Mode (203,0,113,7,234,103).', '203.0.113.7', 60007],
    ['Entering Passive Mode (203,0,113,7,234,103).', '203.0.113.7', 60007],
    ['227 Entering Passive Mode 10,0,0,1,4,1', '10.0.0.1', 1025],
    ['227 Entering Passive Mode=10,0,0,1,4,1', '10.0.0.1', 1025],
    ['227 =10,0,0,1,4,1', '10.0.0.1', 1025],
    ['227 Entering Passive Mode (10, 0, 0, 1, 4, 1)', '10.0.0.1', 1025],
    ['227 Entering Passive Mode (10 ,0 ,0 ,1 ,4 ,1)', '10.0.0.1', 1025],
    ['227 Entering Passive Mode.  (10,0,0,1,4,1)', '10.0.0.1', 1025],
    ['227-Entering Passive Mode (10,0,0,1,4,1)', '10.0.0.1', 1025],
    ['  227 Entering Passive Mode (10,0,0,1,4,1)', '10.0.0.1', 1025],
    ['227 Entering Passive Mode (010,000,000,001,004,001)', '10.0.0.1', 1025],
    ['227 Passive\nnext line 192,168,1,2,195,80', '192.168.1.2', 50000],
    ['227 OK 192,168,1,2,195,80 (and 1,2,3,4,5,6)', '192.168.1.2', 50000],
    ['10,0,0,1,4,1', '10.0.0.1', 1025],
  ];
  it.each(ok)('%j', (text, host, port) => {
    expect(parsePasv(text)).toEqual({ ok: true, value: { host, port } });
  });

  const bad: Array<[string, string]> = [
    ['227 Entering Passive Mode', 'ERR_PASV_SYNTAX'],
    ['227 Entering Passive Mode (1,2,3,4,5)', 'ERR_PASV_SYNTAX'],
    ['227 Entering Passive Mode (1,2,3,4,5,)', 'ERR_PASV_SYNTAX'],
    ['227 Entering Passive Mode (1;2;3;4;5;6)', 'ERR_PASV_SYNTAX'],
    ['227 Entering Passive Mode (1234,2,3,4,5,6)', 'ERR_PASV_SYNTAX'],
    ['227 Entering Passive Mode (1,2,3,4,5,6789)', 'ERR_PASV_SYNTAX'],
    ['227 Entering Passive Mode (256,0,0,1,4,1)', 'ERR_PASV_VALUE'],
    ['227 Entering Passive Mode (10,0,0,1,300,1)', 'ERR_PASV_VALUE'],
    ['227 Entering Passive Mode (10,0,0,1,0,0)', 'ERR_PASV_VALUE'],
    ['500 Illegal PASV command, EPSV ALL in effect', 'ERR_REPLY_UNEXPECTED_CODE'],
    ['229 Entering Extended Passive Mode (|||60000|)', 'ERR_REPLY_UNEXPECTED_CODE'],
    ['', 'ERR_PASV_SYNTAX'],
  ];
  it.each(bad)('refuses %j with %s (replyCode 425)', (text, code) => {
    expect(parsePasv(text)).toEqual({ ok: false, error: { code, replyCode: 425, message: expect.any(String) } });
  });

  it('inverts formatPasv for every address and port (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 65535 }), (ip, port) => {
        expect(parsePasv(`227 ${formatPasv(ip, port)}`)).toEqual({ ok: true, value: { host: ip, port } });
      }),
    );
  });
});

describe('parseEpsv (RFC 2428 §3)', () => {
  const ok: Array<[string, number]> = [
    ['229 Entering Extended Passive Mode (|||60000|)', 60000],
    ['Entering Extended Passive Mode (|||60000|)', 60000],
    ['229 Entering Extended Passive Mode (|||60000|).', 60000],
    ['229 Entering Extended Passive Mode (!!!6446!)', 6446],
    ['229 Entering Extended Passive Mode (~~~1~)', 1],
    ['229 Entering Extended Passive Mode (|||65535|)', 65535],
    ['229 Entering Extended Passive Mode |||6446|', 6446],
    ['229 Entering Extended Passive Mode (||| 6446 |)', 6446],
    ['229 Extended Passive mode OK (|||6446|)', 6446],
  ];
  it.each(ok)('%j', (text, port) => {
    expect(parseEpsv(text)).toEqual({ ok: true, value: { port } });
  });

  const bad: Array<[string, string]> = [
    ['229 Entering Extended Passive Mode', 'ERR_EPSV_SYNTAX'],
    ['229 Entering Extended Passive Mode (||6446|)', 'ERR_EPSV_SYNTAX'],
    ['229 Entering Extended Passive Mode (|!|6446|)', 'ERR_EPSV_SYNTAX'],
    ['229 Entering Extended Passive Mode (|||6446!)', 'ERR_EPSV_SYNTAX'],
    ['229 Entering Extended Passive Mode (|||port|)', 'ERR_EPSV_SYNTAX'],
    ['229 Entering Extended Passive Mode (1116441)', 'ERR_EPSV_SYNTAX'],
    ['229 Entering Extended Passive Mode (|||123456|)', 'ERR_EPSV_SYNTAX'],
    ['229 Entering Extended Passive Mode (|||0|)', 'ERR_EPSV_VALUE'],
    ['229 Entering Extended Passive Mode (|||65536|)', 'ERR_EPSV_VALUE'],
    ['522 Network protocol not supported, use (1,2)', 'ERR_REPLY_UNEXPECTED_CODE'],
  ];
  it.each(bad)('refuses %j with %s (replyCode 425)', (text, code) => {
    expect(parseEpsv(text)).toEqual({ ok: false, error: { code, replyCode: 425, message: expect.any(String) } });
  });

  it('inverts formatEpsv for every port (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), (port) => {
        expect(parseEpsv(`229 ${formatEpsv(port)}`)).toEqual({ ok: true, value: { port } });
      }),
    );
  });
});

it('parsePasv and parseEpsv never throw (property)', () => {
  fc.assert(
    fc.property(text, (s) => {
      parsePasv(s);
      parseEpsv(s);
    }),
  );
});
