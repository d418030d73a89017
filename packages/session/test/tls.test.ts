import { MasqueradeResolver } from '@ftpkit/masquerade';
import { describe, expect, it } from 'vitest';
import type { DataConnection, SecureDataRequest, SecureDataResult, SessionConfig, TlsInfo, TlsUpgradeResult } from '../src/index.js';
import { PROTECTION_MACHINE, protectionTransition } from '../src/index.js';
import { FakeConnection, FakeData, Harness, RecordingControl, settle } from './harness.js';
import type { HarnessOptions } from './harness.js';

const CONTROL_TLS: TlsInfo = { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' };

/** A control channel that can start TLS; the test completes or fails each handshake. */
class TlsControl extends RecordingControl {
  tls: TlsInfo | undefined;
  upgrades = 0;
  clears = 0;
  /** Number of writes made before upgradeTls() was called. */
  writesAtUpgrade = -1;
  private pending: { resolve: (r: TlsUpgradeResult) => void; secureAfter: boolean } | undefined;

  constructor(implicit = false, readonly canClear = false, readonly info: TlsInfo = CONTROL_TLS) {
    super('127.0.0.1', '127.0.0.1', 40000, implicit ? 990 : 21, implicit);
    this.tls = implicit ? info : undefined;
    if (!canClear) (this as { clearTls?: unknown }).clearTls = undefined;
  }
  private setSecure(on: boolean): void {
    (this as { secure: boolean }).secure = on;
    this.tls = on ? this.info : undefined;
  }
  upgradeTls(): Promise<TlsUpgradeResult> {
    this.upgrades++;
    this.writesAtUpgrade = this.writes.length;
    return new Promise((resolve) => (this.pending = { resolve, secureAfter: true }));
  }
  clearTls(): Promise<TlsUpgradeResult> {
    this.clears++;
    return new Promise((resolve) => (this.pending = { resolve, secureAfter: false }));
  }
  /** The handshake (or the TLS shutdown of CCC) finished. */
  finish(ok = true): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending === undefined) throw new Error('no handshake in progress');
    if (!ok) {
      pending.resolve({ ok: false, message: 'wrong version number' });
      return;
    }
    this.setSecure(pending.secureAfter);
    pending.resolve({ ok: true, info: this.info });
  }
}

type SecureBehaviour = 'resumed' | 'fresh' | 'fail' | 'hold';

/** Data channels that can protect connections, as the test decides. */
class TlsData extends FakeData {
  readonly secureRequests: { connection: DataConnection; request: SecureDataRequest }[] = [];
  readonly protectedConnections: FakeConnection[] = [];
  behaviour: SecureBehaviour = 'resumed';
  private held: (() => void) | undefined;

  async secure(connection: DataConnection, request: SecureDataRequest): Promise<SecureDataResult> {
    this.secureRequests.push({ connection, request });
    const raw = connection as FakeConnection;
    if (this.behaviour === 'hold') await new Promise<void>((resolve) => (this.held = resolve));
    if (this.behaviour === 'fail' || raw.destroyed) return { ok: false, reason: 'handshake', message: 'wrong version number' };
    const secured = new FakeConnection(raw.remoteAddress, raw.remotePort);
    this.protectedConnections.push(secured);
    // The raw connection's upload is what the client sends through TLS.
    return { ok: true, connection: wrap(raw, secured), info: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256' }, resumed: this.behaviour === 'resumed' };
  }
  release(): void {
    const r = this.held;
    this.held = undefined;
    r?.();
  }
}

/** A protected connection: sends are recorded on `secured`, uploads come from `raw`. */
function wrap(raw: FakeConnection, secured: FakeConnection): DataConnection {
  return {
    remoteAddress: raw.remoteAddress,
    remotePort: raw.remotePort,
    send: (source) => secured.send(source),
    receive: (sink) => raw.receive(sink),
    destroy: () => {
      secured.destroy();
      raw.destroy();
    },
  };
}

function tlsHarness(config: SessionConfig = { tls: {} }, options: HarnessOptions & { implicit?: boolean; canClear?: boolean } = {}) {
  const control = new TlsControl(options.implicit === true, options.canClear === true);
  const data = new TlsData();
  const h = new Harness({ ...options, config, control, data });
  return { h, control, data };
}

/** AUTH TLS with a successful handshake. */
async function authTls(h: Harness, control: TlsControl, mech = 'TLS'): Promise<void> {
  expect(await h.send(`AUTH ${mech}`)).toEqual([`234 AUTH ${mech.toUpperCase()} successful`]);
  control.finish();
  await settle();
}

async function secureLogin(config: SessionConfig = { tls: {} }, options: HarnessOptions & { implicit?: boolean; canClear?: boolean } = {}) {
  const t = tlsHarness(config, options);
  t.h.fs.addFile('/hello.txt', 'hello\n');
  t.h.start();
  if (options.implicit !== true) await authTls(t.h, t.control);
  await t.h.transcript(`
    C: USER ftptest
    S: 331 Password required for ftptest
    C: PASS secret
    S: 230 User ftptest logged in
    C: PBSZ 0
    S: 200 PBSZ 0 successful
    C: PROT P
    S: 200 Protection set to Private
    C: TYPE I
    S: 200 Type set to I
  `);
  return t;
}

/** PASV (or EPSV) and RETR; the client connects. Returns the replies and the raw data connection. */
async function passiveRetr(h: Harness, file = 'hello.txt', verb = 'PASV'): Promise<{ replies: string[]; raw: FakeConnection }> {
  h.raw(`${verb}\r\nRETR ${file}\r\n`);
  await settle();
  const raw = h.data.last.connect();
  await settle();
  return { replies: h.control.take(), raw };
}

describe('FTPS offered or not', () => {
  it('without SessionConfig.tls the security commands are unknown (500, as ProFTPD without mod_tls) and FEAT does not list them', async () => {
    const h = new Harness();
    h.start();
    await h.transcript(`
      C: AUTH TLS
      S: 500 AUTH not understood
      C: PBSZ 0
      S: 500 PBSZ not understood
      C: PROT P
      S: 500 PROT not understood
      C: CCC
      S: 500 CCC not understood
    `);
    const feat = await h.send('FEAT');
    expect(feat.join('\n')).not.toMatch(/AUTH|PBSZ|PROT|CCC/);
  });

  it('with tls configured but a control channel that cannot start TLS, nothing is offered', async () => {
    const h = new Harness({ config: { tls: {} } });
    h.start();
    expect(await h.send('AUTH TLS')).toEqual(['500 AUTH not understood']);
    expect((await h.send('FEAT')).join('\n')).not.toContain('AUTH TLS');
    expect((await h.send('HELP')).join('\n')).toContain('AUTH*');
  });

  it('FEAT lists AUTH TLS, PBSZ and PROT (RFC 4217 §6), CCC only where it is accepted', async () => {
    const { h } = tlsHarness();
    h.start();
    const feat = await h.send('FEAT');
    expect(feat).toContain(' AUTH TLS');
    expect(feat).toContain(' PBSZ');
    expect(feat).toContain(' PROT');
    expect(feat).not.toContain(' CCC');
    expect((await h.send('HELP')).join('\n')).not.toMatch(/AUTH\*/);
    const ccc = tlsHarness({ tls: { allowCcc: true } }, { canClear: true });
    ccc.h.start();
    expect(await ccc.h.send('FEAT')).toContain(' CCC');
  });
});

describe('AUTH TLS (RFC 4217 §4)', () => {
  it('writes 234 before asking the port for TLS, then accepts commands over TLS', async () => {
    const { h, control } = tlsHarness();
    h.start();
    h.raw('AUTH TLS\r\n');
    expect(control.upgrades).toBe(1);
    expect(control.writes.slice(0, control.writesAtUpgrade).join('')).toContain('234 AUTH TLS successful\r\n');
    expect(control.take()).toEqual(['234 AUTH TLS successful']);
    // Bytes arriving during the handshake are TLS-decrypted ones: they run after it, in order.
    h.raw('USER ftptest\r\n');
    await settle();
    expect(control.take()).toEqual([]);
    control.finish();
    await settle();
    expect(control.take()).toEqual(['331 Password required for ftptest']);
    const established = h.eventsOf('tls').find((e) => e.outcome === 'established');
    expect(established?.message).toBe('TLSv1.3 connection accepted, using cipher TLS_AES_256_GCM_SHA384');
    expect(established?.channel).toBe('control');
  });

  it('accepts the mechanism in any case and TLS-C; AUTH SSL and TLS-P also set PBSZ and PROT P', async () => {
    for (const [mech, prot] of [['tls', 'C'], ['TLS-C', 'C'], ['SSL', 'P'], ['tls-p', 'P']] as const) {
      const { h, control } = tlsHarness();
      h.fs.addFile('/f', 'x');
      await h.login();
      await authTls(h, control, mech);
      expect((await passiveRetr(h, 'f')).replies.at(-1)).toBe('226 Transfer complete');
      expect((h.data as TlsData).secureRequests.length, mech).toBe(prot === 'P' ? 1 : 0);
    }
  });

  it('refuses an unknown mechanism (504) and a second AUTH (503)', async () => {
    const { h, control } = tlsHarness();
    h.start();
    await h.transcript(`
      C: AUTH GSSAPI
      S: 504 AUTH GSSAPI unsupported
    `);
    expect(control.upgrades).toBe(0);
    await authTls(h, control);
    await h.transcript(`
      C: AUTH TLS
      S: 503 Unwilling to accept second AUTH
    `);
    expect(control.upgrades).toBe(1);
  });

  it('drops every plaintext command pipelined after AUTH TLS (command injection)', async () => {
    const { h, control } = tlsHarness();
    await h.login();
    h.raw('AUTH TLS\r\nDELE /etc\r\nMKD evil\r\nQUI');
    expect(control.take()).toEqual(['234 AUTH TLS successful']);
    control.finish();
    await settle();
    expect(control.take()).toEqual([]);
    h.raw('T\r\nNOOP\r\n'); // the rest of the partial "QUI" must not join this line
    await settle();
    expect(control.take()).toEqual(['500 T not understood', '200 NOOP command successful']);
    const discarded = h.eventsOf('tls').find((e) => e.outcome === 'discarded');
    expect(discarded?.message).toBe('discarded 2 commands sent with AUTH before the TLS handshake');
    expect(h.fs.nodes.has('/evil')).toBe(false);
  });

  it('drops commands queued behind a slow command before AUTH', async () => {
    const { h, control } = tlsHarness();
    await h.login();
    // PASV needs IO: AUTH and what follows wait in the queue; AUTH runs, the rest is dropped.
    h.raw('PASV\r\nAUTH TLS\r\nMKD q1\r\nMKD q2\r\n');
    await settle();
    expect(control.take()).toEqual(['227 Entering Passive Mode (127,0,0,1,234,96).', '234 AUTH TLS successful']);
    control.finish();
    await settle();
    expect(control.take()).toEqual([]);
    expect(h.fs.nodes.has('/q1') || h.fs.nodes.has('/q2')).toBe(false);
    expect(h.eventsOf('tls').find((e) => e.outcome === 'discarded')?.message).toBe('discarded 2 commands sent with AUTH before the TLS handshake');
  });

  it('a failed handshake ends the session without a plaintext reply', async () => {
    const { h, control } = tlsHarness();
    h.start();
    await h.send('AUTH TLS');
    control.finish(false);
    await settle();
    expect(control.take()).toEqual([]);
    expect(control.closed).toBe(true);
    expect(h.eventsOf('tls').find((e) => e.outcome === 'failed')?.message).toBe('TLS/TLS-C negotiation failed on control channel: wrong version number');
    expect(h.eventsOf('close')[0]?.reason).toBe('tls');
  });
});

describe('PBSZ and PROT (RFC 4217 §8-§9)', () => {
  it('need a protected control connection, PBSZ before PROT, and known levels', async () => {
    const { h, control } = tlsHarness();
    h.start();
    await h.transcript(`
      C: PBSZ 0
      S: 503 PBSZ not allowed on insecure control connection
      C: PROT P
      S: 503 PROT not allowed on insecure control connection
    `);
    await authTls(h, control);
    await h.transcript(`
      C: PROT P
      S: 503 You must issue the PBSZ command prior to PROT
      C: PBSZ 1024
      S: 200 PBSZ=0 successful
      C: PBSZ x
      S: 501 PBSZ x: protection buffer size must be a decimal number
      C: PBSZ 0
      S: 200 PBSZ 0 successful
      C: PROT S
      S: 536 PROT S unsupported
      C: PROT E
      S: 536 PROT E unsupported
      C: PROT Q
      S: 504 PROT Q unsupported
      C: PROT p
      S: 200 Protection set to Private
      C: PROT C
      S: 200 Protection set to Clear
    `);
  });

  it('refuses PROT P when the data channels cannot protect connections', async () => {
    const control = new TlsControl(true);
    const h = new Harness({ config: { tls: {} }, control });
    h.start();
    await h.transcript(`
      C: PBSZ 0
      S: 200 PBSZ 0 successful
      C: PROT P
      S: 534 Unwilling to accept security parameters
    `);
  });
});

describe('protected data connections', () => {
  it('PROT P: the 150 goes out, then the data connection is protected with the control session, then the bytes', async () => {
    const { h, data } = await secureLogin();
    const { replies, raw } = await passiveRetr(h);
    expect(replies).toEqual([
      '227 Entering Passive Mode (127,0,0,1,234,96).',
      '150 Opening BINARY mode data connection for hello.txt (6 bytes)',
      '226 Transfer complete',
    ]);
    expect(data.secureRequests).toHaveLength(1);
    expect(data.secureRequests[0]?.connection).toBe(raw);
    expect(data.secureRequests[0]?.request.control).toBe(CONTROL_TLS);
    expect(raw.sent).toHaveLength(0); // nothing in the clear
    expect(data.protectedConnections[0]?.text()).toBe('hello\n');
    const ev = h.eventsOf('tls').find((e) => e.channel === 'data');
    expect(ev).toMatchObject({ outcome: 'established', resumed: true, verb: 'RETR' });
  });

  it('PROT P over active mode and for uploads and listings', async () => {
    const { h, data } = await secureLogin();
    await h.send('PORT 127,0,0,1,156,64');
    h.raw('STOR up.bin\r\n');
    await settle();
    const raw = h.data.lastConnection;
    raw.upload('secret bytes');
    raw.finish();
    await settle();
    expect(h.control.take()).toEqual(['150 Opening BINARY mode data connection for up.bin', '226 Transfer complete']);
    expect(h.fs.text('/up.bin')).toBe('secret bytes');
    h.raw('PASV\r\nLIST\r\n');
    await settle();
    h.data.last.connect();
    await settle();
    expect(h.control.take().at(-1)).toBe('226 Transfer complete');
    expect(data.protectedConnections.at(-1)?.text()).toContain('hello.txt');
    expect(data.secureRequests).toHaveLength(2);
  });

  it('a data connection that does not resume the control session is refused with 425 after the 150', async () => {
    const { h, data } = await secureLogin();
    data.behaviour = 'fresh';
    expect((await passiveRetr(h)).replies).toEqual([
      '227 Entering Passive Mode (127,0,0,1,234,96).',
      '150 Opening BINARY mode data connection for hello.txt (6 bytes)',
      '425 Unable to build data connection: TLS session of the control connection not resumed (the operator can relax this with TLSOptions NoSessionReuseRequired)',
    ]);
    expect(data.protectedConnections[0]?.destroyed).toBe(true);
    expect(data.protectedConnections[0]?.sent).toHaveLength(0);
    const ev = h.eventsOf('tls').find((e) => e.outcome === 'not-resumed');
    expect(ev?.message).toBe('client did not reuse SSL session, rejecting data connection (see the NoSessionReuseRequired TLSOptions parameter)');
    expect(h.eventsOf('transfer-end')[0]).toMatchObject({ completion: 'i', reason: 'connect-failed' });
  });

  it('requireSessionReuse: false (NoSessionReuseRequired) accepts a fresh TLS session', async () => {
    const { h, data } = await secureLogin({ tls: { requireSessionReuse: false } });
    data.behaviour = 'fresh';
    const { replies } = await passiveRetr(h);
    expect(replies.at(-1)).toBe('226 Transfer complete');
    expect(data.protectedConnections[0]?.text()).toBe('hello\n');
  });

  it('a plaintext data connection under PROT P is refused with 522 and an upload leaves no file', async () => {
    const { h, data } = await secureLogin();
    data.behaviour = 'fail';
    h.raw('PASV\r\nSTOR plain.txt\r\n');
    await settle();
    const raw = h.data.last.connect();
    raw.upload('USER-visible plaintext');
    await settle();
    expect(h.control.take()).toEqual([
      '227 Entering Passive Mode (127,0,0,1,234,96).',
      '150 Opening BINARY mode data connection for plain.txt',
      '522 Data connection must be protected: TLS negotiation failed (wrong version number)',
    ]);
    expect(raw.destroyed).toBe(true);
    expect(h.fs.nodes.has('/plain.txt')).toBe(false);
    expect(h.fs.sinkLog).toEqual(['abort /plain.txt']);
    // The session goes on.
    expect(await h.send('NOOP')).toEqual(['200 NOOP command successful']);
  });

  it('ABOR during the data handshake cuts it short', async () => {
    const { h, data } = await secureLogin();
    data.behaviour = 'hold';
    const { replies, raw } = await passiveRetr(h);
    expect(replies.at(-1)).toBe('150 Opening BINARY mode data connection for hello.txt (6 bytes)');
    expect(await h.send('ABOR')).toEqual(['426 Transfer aborted. Data connection closed.', '226 Abort successful']);
    expect(raw.destroyed).toBe(true);
    data.release();
    await settle();
    expect(h.control.take()).toEqual([]);
    expect(await h.send('NOOP')).toEqual(['200 NOOP command successful']);
  });

  it('PROT C goes back to clear data connections', async () => {
    const { h, data } = await secureLogin();
    await h.send('PROT C');
    const { replies, raw } = await passiveRetr(h);
    expect(replies.at(-1)).toBe('226 Transfer complete');
    expect(raw.text()).toBe('hello\n');
    expect(data.secureRequests).toHaveLength(0);
  });
});

describe('TLSRequired', () => {
  it('control: everything but AUTH, FEAT, SYST and QUIT needs TLS, before the login check', async () => {
    const { h, control } = tlsHarness({ tls: { required: { control: 'required', data: 'optional' } } });
    h.start();
    await h.transcript(`
      C: USER ftptest
      S: 550 SSL/TLS required on the control channel
      C: PWD
      S: 550 SSL/TLS required on the control channel
      C: NOOP
      S: 550 SSL/TLS required on the control channel
      C: SYST
      S: 215 UNIX Type: L8
    `);
    expect((await h.send('FEAT'))[0]).toBe('211-Features:');
    const refused = h.eventsOf('tls').filter((e) => e.outcome === 'refused');
    expect(refused[0]?.message).toBe('SSL/TLS required but absent on control channel, denying USER command');
    await authTls(h, control);
    expect(await h.send('USER ftptest')).toEqual(['331 Password required for ftptest']);
  });

  it('auth: only USER, PASS and ACCT need TLS', async () => {
    const { h } = tlsHarness({ tls: { required: { control: 'required', data: 'optional', authOnly: true } } });
    h.start();
    await h.transcript(`
      C: NOOP
      S: 200 NOOP command successful
      C: USER ftptest
      S: 550 SSL/TLS required on the control channel
      C: ACCT x
      S: 550 SSL/TLS required on the control channel
    `);
    expect(h.eventsOf('tls')[0]?.message).toBe('SSL/TLS required but absent for authentication, denying USER command');
  });

  it('data: transfers and listings need PROT P (522), PROT C is refused (534)', async () => {
    const { h, control } = tlsHarness({ tls: { required: { control: 'optional', data: 'required' } } });
    h.fs.addFile('/hello.txt', 'hello\n');
    await h.login();
    await authTls(h, control);
    await h.transcript(`
      C: LIST
      S: 522 SSL/TLS required on the data channel
      C: RETR hello.txt
      S: 522 SSL/TLS required on the data channel
      C: STOR x
      S: 522 SSL/TLS required on the data channel
      C: PBSZ 0
      S: 200 PBSZ 0 successful
      C: PROT C
      S: 534 Unwilling to accept security parameters
      C: PROT P
      S: 200 Protection set to Private
    `);
    expect((await passiveRetr(h)).replies.at(-1)).toBe('226 Transfer complete');
  });

  it('data forbidden (!data): PROT P is refused', async () => {
    const { h, control } = tlsHarness({ tls: { required: { control: 'optional', data: 'forbidden' } } });
    h.start();
    await authTls(h, control);
    await h.transcript(`
      C: PBSZ 0
      S: 200 PBSZ 0 successful
      C: PROT P
      S: 534 Unwilling to accept security parameters
      C: PROT C
      S: 200 Protection set to Clear
    `);
  });

  it('exemptAnonymous: anonymous logs in and transfers in the clear; a real user still needs TLS', async () => {
    const config: SessionConfig = { tls: { required: { control: 'required', data: 'required' }, exemptAnonymous: true } };
    const { h } = tlsHarness(config);
    h.fs.addFile('/pub.txt', 'public\n');
    h.start();
    await h.transcript(`
      C: USER ftptest
      S: 550 SSL/TLS required on the control channel
      C: USER anonymous
      S: 331 Anonymous login ok, send your complete email address as your password
      C: PASS me@example.com
      S: 230 Anonymous access granted, restrictions apply
      C: PASV
      S: 227 Entering Passive Mode (127,0,0,1,234,96).
    `);
    h.raw('RETR pub.txt\r\n');
    await settle();
    const raw = h.data.last.connect();
    await settle();
    expect(h.control.take().at(-1)).toBe('226 Transfer complete');
    expect(raw.text()).toBe('public\r\n'); // TYPE A
  });

  it('exemptAnonymous: an anonymous USER name whose account is not anonymous is refused at PASS', async () => {
    const config: SessionConfig = { tls: { required: { control: 'required', data: 'optional' }, exemptAnonymous: true } };
    const { h } = tlsHarness(config, { users: { ftp: { password: 'pw' } } });
    h.start();
    await h.transcript(`
      C: USER ftp
      S: 331 Anonymous login ok, send your complete email address as your password
      C: PASS pw
      S: 530 Login incorrect.
    `);
    expect(h.eventsOf('login-failed')[0]).toMatchObject({ reason: 'tls', message: 'USER ftp (Login failed): SSL/TLS required on the control channel' });
  });

  it('a per-user configuration (onLogin) can require data protection after login', async () => {
    const strict: SessionConfig = { tls: { required: { control: 'optional', data: 'required' } } };
    const { h } = tlsHarness({ tls: {}, onLogin: () => strict });
    await h.login();
    expect(await h.send('LIST')).toEqual(['522 SSL/TLS required on the data channel']);
  });
});

describe('implicit FTPS', () => {
  it('starts protected: PBSZ/PROT work at once, AUTH is a second AUTH', async () => {
    const { h, data } = await secureLogin({ tls: {} }, { implicit: true });
    expect(await h.send('AUTH TLS')).toEqual(['503 Unwilling to accept second AUTH']);
    const { replies } = await passiveRetr(h, 'hello.txt', 'EPSV');
    expect(replies.at(-1)).toBe('226 Transfer complete');
    expect(data.secureRequests[0]?.request.control).toBe(CONTROL_TLS);
  });
});

describe('TLSMasqueradeAddress', () => {
  it('PASV advertises the TLS address once the control connection is protected', async () => {
    const masquerade = new MasqueradeResolver({
      policies: [{ kind: 'tls', policy: { kind: 'static', address: '198.51.100.9' } }, { kind: 'static', address: '203.0.113.7' }],
      guard: false,
    });
    const { h, control } = tlsHarness({ tls: {}, masquerade });
    await h.login();
    expect(await h.send('PASV')).toEqual(['227 Entering Passive Mode (203,0,113,7,234,96).']);
    await authTls(h, control);
    expect(await h.send('PASV')).toEqual(['227 Entering Passive Mode (198,51,100,9,234,97).']);
    const implicit = tlsHarness({ tls: {}, masquerade }, { implicit: true });
    await implicit.h.login();
    expect(await implicit.h.send('PASV')).toEqual(['227 Entering Passive Mode (198,51,100,9,234,96).']);
  });
});

describe('CCC (RFC 4217 §6)', () => {
  it('is refused by default, on a clear connection, and when the control channel must stay protected', async () => {
    const { h, control } = tlsHarness({ tls: {} }, { canClear: true });
    h.start();
    expect(await h.send('CCC')).toEqual(['533 CCC not allowed on insecure control connection']);
    await authTls(h, control);
    expect(await h.send('CCC')).toEqual(['534 Unwilling to accept security parameters']);
    const required = tlsHarness({ tls: { allowCcc: true, required: { control: 'required', data: 'optional' } } }, { canClear: true });
    required.h.start();
    await authTls(required.h, required.control);
    expect(await required.h.send('CCC')).toEqual(['534 Unwilling to accept security parameters']);
    expect(required.control.clears).toBe(0);
  });

  it('when allowed, answers 200 in TLS, then goes on in the clear; PROT P data still resumes the control session', async () => {
    const { h, control, data } = tlsHarness({ tls: { allowCcc: true } }, { canClear: true });
    h.fs.addFile('/hello.txt', 'hello\n');
    await h.login();
    await authTls(h, control);
    await h.send('PBSZ 0');
    await h.send('PROT P');
    h.raw('CCC\r\nNOOP\r\n');
    expect(control.take()).toEqual(['200 Clearing control channel protection']);
    control.finish();
    await settle();
    expect(control.secure).toBe(false);
    expect(control.take()).toEqual([]);
    expect(h.eventsOf('tls').map((e) => e.outcome)).toEqual(['established', 'discarded', 'cleared']);
    expect(await h.send('AUTH TLS')).toEqual(['503 Unwilling to accept second AUTH']);
    const { replies } = await passiveRetr(h);
    expect(replies.at(-1)).toBe('226 Transfer complete');
    expect(data.secureRequests[0]?.request.control).toBe(CONTROL_TLS);
  });
});

describe('HOST after AUTH (RFC 7151 §3.2)', () => {
  it('is a bad sequence without SNI; with SNI only that name is accepted', async () => {
    const other: SessionConfig = { serverName: 'b', tls: {} };
    const { h, control } = tlsHarness({ tls: {}, onHost: (name) => (name === 'b.example' || name === 'c.example' ? other : undefined) });
    h.start();
    await authTls(h, control);
    expect(await h.send('HOST b.example')).toEqual(['503 Bad sequence of commands']);
    const sni = new TlsControl(true, false, { ...CONTROL_TLS, servername: 'b.example' });
    const h2 = new Harness({ config: { tls: {}, onHost: (name) => (name === 'b.example' || name === 'c.example' ? other : undefined) }, control: sni });
    h2.start();
    expect(await h2.send('HOST c.example')).toEqual(['504 c.example: Unknown hostname provided']);
    expect(await h2.send('HOST B.example')).toEqual(['220 ftpkit Server (b) [127.0.0.1]']);
  });
});

describe('REIN on a protected connection', () => {
  it('is not implemented (502, as ProFTPD 1.3.8): TLS, the login and PROT stay', async () => {
    const { h, data } = await secureLogin();
    expect(await h.send('REIN')).toEqual(['502 REIN command not implemented']);
    expect(h.control.secure).toBe(true);
    expect((await passiveRetr(h)).replies.at(-1)).toBe('226 Transfer complete');
    expect(data.secureRequests).toHaveLength(1);
  });
});

describe('PROTECTION_MACHINE', () => {
  it('only plain accepts AUTH; a handshake ends secure or closed; only secure accepts CCC', () => {
    expect(protectionTransition('plain', 'AUTH')).toBe('handshake');
    expect(protectionTransition('handshake', 'HANDSHAKE_OK')).toBe('secure');
    expect(protectionTransition('handshake', 'HANDSHAKE_FAILED')).toBe('closed');
    expect(protectionTransition('secure', 'CCC')).toBe('cleared');
    for (const state of Object.keys(PROTECTION_MACHINE) as (keyof typeof PROTECTION_MACHINE)[]) {
      if (state !== 'plain') expect(protectionTransition(state, 'AUTH'), state).toBeUndefined();
      if (state !== 'secure') expect(protectionTransition(state, 'CCC'), state).toBeUndefined();
    }
  });
});
