/**
 * mod_delay (DelayEngine, DelayOnEvent), MaxConnectionsPerHost, ProxyProtocolOptions and
 * PassivePortsShared: parsing, contexts, layering and the errors operators see.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_FAILED_LOGIN_DELAY_MS, failedLoginDelayMs, formatDiagnostics, parseConfig, selectServer } from '../src/index.js';
import { parseDelayMs } from '../src/values.js';
import { parseOk, session } from './helpers.js';

const errors = (text: string): string[] => {
  const r = parseConfig(text, { file: 't.conf' });
  return r.ok ? [] : r.errors.map((e) => `${e.line}: ${e.message}`);
};

describe('mod_delay: DelayEngine and DelayOnEvent', () => {
  it('mod_delay durations: ms, s, mm:ss.mmm and min-max ranges', () => {
    expect(parseDelayMs('1500')).toEqual({ min: 1500, max: 1500 });
    expect(parseDelayMs('1500ms')).toEqual({ min: 1500, max: 1500 });
    expect(parseDelayMs('2s')).toEqual({ min: 2000, max: 2000 });
    expect(parseDelayMs('2sec')).toEqual({ min: 2000, max: 2000 });
    expect(parseDelayMs('01:02.250')).toEqual({ min: 62_250, max: 62_250 });
    expect(parseDelayMs('1000-2000')).toEqual({ min: 1000, max: 2000 });
    expect(parseDelayMs('1000-2000ms')).toEqual({ min: 1000, max: 2000 });
    expect(parseDelayMs('1-3s')).toEqual({ min: 1000, max: 3000 });
    for (const bad of ['', 'fast', '-5', '2000-1000', '5m', '1.5s', '99999999999']) expect(parseDelayMs(bad), bad).toBeUndefined();
  });

  it('the default: DelayEngine on, a failed login waits the ftpkit default', () => {
    const s = session(parseOk(''), { remoteAddress: '192.0.2.1' });
    expect(s.settings.delayEngine).toBe(true);
    expect(failedLoginDelayMs(s.settings)).toBe(DEFAULT_FAILED_LOGIN_DELAY_MS);
  });

  it('DelayOnEvent FailedLogin sets the delay (the last line wins; a range uses its minimum); DelayEngine off turns it off', () => {
    const c = parseOk(`
DelayOnEvent FailedLogin 500ms
DelayOnEvent failedlogin 2000-3000
<VirtualHost 10.0.0.9>
  DelayOnEvent FailedLogin 5s
</VirtualHost>
<VirtualHost 10.0.0.8>
  DelayEngine off
</VirtualHost>
<Class lan>
  From 192.168.0.0/16
</Class>
<IfClass lan>
  DelayOnEvent FailedLogin 0
</IfClass>`);
    expect(c.main.settings.delayOnEvent).toEqual([
      { event: 'FailedLogin', minMs: 500, maxMs: 500 },
      { event: 'FailedLogin', minMs: 2000, maxMs: 3000 },
    ]);
    expect(failedLoginDelayMs(session(c, { remoteAddress: '192.0.2.1' }).settings)).toBe(2000);
    expect(failedLoginDelayMs(session(c, { localAddress: '10.0.0.9', remoteAddress: '192.0.2.1' }).settings)).toBe(5000);
    expect(failedLoginDelayMs(session(c, { localAddress: '10.0.0.8', remoteAddress: '192.0.2.1' }).settings)).toBe(0);
    expect(failedLoginDelayMs(session(c, { remoteAddress: '192.168.1.4' }).settings)).toBe(0);
  });

  it('<IfModule mod_delay.c> is loaded; DelayTable and DelayControlsACLs are accepted with a note', () => {
    const r = parseConfig('<IfModule mod_delay.c>\n  DelayEngine off\n  DelayTable /var/run/proftpd/proftpd.delay\n  DelayControlsACLs all allow user root\n</IfModule>\n', { file: 't.conf' });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.config.main.settings.delayEngine).toBe(false);
  });

  it('USER, PASS and Connect events are parsed, with a warning that ftpkit does not apply them', () => {
    const r = parseConfig('DelayOnEvent PASS 2000ms\nDelayOnEvent FailedLogin 1s\n', { file: 't.conf' });
    expect(r.ok).toBe(true);
    expect(formatDiagnostics(r)).toMatch(/^t\.conf:1: warning: DelayOnEvent PASS: ftpkit delays failed logins only \(DelayOnEvent FailedLogin\); this line is not applied/);
    expect(r.ok && r.config.main.settings.delayOnEvent?.length).toBe(2);
  });

  it('errors name the line, the event or the delay', () => {
    expect(errors('DelayOnEvent Quit 1s')).toEqual(['1: DelayOnEvent: unknown/unsupported event: Quit']);
    expect(errors('DelayOnEvent FailedLogin soon')).toEqual(["1: DelayOnEvent: error parsing delay parameter 'soon'"]);
    expect(errors('DelayOnEvent FailedLogin')).toEqual(['1: DelayOnEvent takes an event and a delay, got 1 arguments']);
    expect(errors('DelayEngine maybe')).toEqual(["1: DelayEngine expects on or off, got 'maybe'"]);
    expect(errors('<Anonymous /srv/ftp>\nUser ftp\nDelayEngine off\n</Anonymous>')).toContainEqual(expect.stringMatching(/^3: DelayEngine is not allowed inside <Anonymous>/));
  });
});

describe('MaxConnectionsPerHost (mod_auth, reference §7.2)', () => {
  it('server, <VirtualHost>, <Global> and <IfClass>; an optional message; none unsets it', () => {
    const c = parseOk(`
MaxConnectionsPerHost 10
<Global>
  MaxConnectionsPerHost 3 "Only %m, please."
</Global>
<VirtualHost 10.0.0.9>
  MaxConnectionsPerHost none
</VirtualHost>
<Class office>
  From 198.51.100.0/24
</Class>
<IfClass office>
  MaxConnectionsPerHost 50
</IfClass>`);
    expect(session(c, { remoteAddress: '192.0.2.1' }).settings.maxConnectionsPerHost).toEqual({ max: 10 });
    expect(session(c, { remoteAddress: '198.51.100.7' }).settings.maxConnectionsPerHost).toEqual({ max: 50 });
    // The vhost's own `none` leaves it unset there, so <Global>'s value applies.
    expect(session(c, { localAddress: '10.0.0.9', remoteAddress: '192.0.2.1' }).settings.maxConnectionsPerHost).toEqual({ max: 3, message: 'Only %m, please.' });
  });

  it('is no longer reported as unsupported; bad values and <Anonymous> are errors', () => {
    expect(errors('MaxConnectionsPerHost 5')).toEqual([]);
    expect(errors('MaxConnectionsPerHost 0')).toEqual(["1: MaxConnectionsPerHost '0' must be a number of clients of at least 1, or none"]);
    expect(errors('MaxConnectionsPerHost')[0]).toMatch(/^1: MaxConnectionsPerHost takes a number \(or none\)/);
    expect(errors('<Anonymous /srv/ftp>\nUser ftp\nMaxConnectionsPerHost 2\n</Anonymous>')).toContainEqual(expect.stringMatching(/^3: MaxConnectionsPerHost is not allowed inside <Anonymous>/));
  });
});

describe('ProxyProtocolOptions UseProxiedServerAddress (mod_proxy_protocol)', () => {
  it('parsed per server; repeated lines merge; unknown options are errors', () => {
    const c = parseOk('ProxyProtocolEngine on\nProxyProtocolOptions UseProxiedServerAddress\nProxyProtocolOptions useproxiedserveraddress\n<VirtualHost 10.0.0.9>\nServerName other\n</VirtualHost>');
    expect(c.main.settings.proxyProtocolOptions).toEqual(['UseProxiedServerAddress']);
    expect(session(c, { remoteAddress: '192.0.2.1' }).settings.proxyProtocolOptions).toEqual(['UseProxiedServerAddress']);
    expect(session(c, { localAddress: '10.0.0.9', remoteAddress: '192.0.2.1' }).settings.proxyProtocolOptions).toEqual([]);
    expect(errors('ProxyProtocolOptions UseProxiedSourceAddress')).toEqual(["1: ProxyProtocolOptions: unknown ProxyProtocolOption 'UseProxiedSourceAddress'"]);
    expect(errors('ProxyProtocolOptions')).toEqual(['1: ProxyProtocolOptions: wrong number of parameters']);
  });

  it('a Port 0 virtual host matches its address on any port (a proxied destination such as 203.0.113.10:21)', () => {
    const c = parseOk('Port 2121\n<VirtualHost 203.0.113.10>\nPort 0\nServerName public\n</VirtualHost>');
    const r = selectServer(c, { localAddress: '203.0.113.10', localPort: 21 });
    expect(r.ok && r.value.settings.serverName).toBe('public');
  });
});

describe('PassivePortsShared (the --passive-share flag as a directive)', () => {
  it('server config only, on/off, default unset', () => {
    expect(parseOk('').daemon.passivePortsShared).toBeUndefined();
    expect(parseOk('PassivePortsShared on').daemon.passivePortsShared).toBe(true);
    expect(parseOk('PassivePortsShared off').daemon.passivePortsShared).toBe(false);
    expect(errors('PassivePortsShared sometimes')).toEqual(["1: PassivePortsShared expects on or off, got 'sometimes'"]);
    expect(errors('<VirtualHost 10.0.0.9>\nPassivePortsShared on\n</VirtualHost>')[0]).toMatch(/^2: PassivePortsShared /);
  });
});
