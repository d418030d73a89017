import { describe, expect, it } from 'vitest';
import { Harness, settle } from './harness.js';

describe('login (RFC 959 §4.1.1, ProFTPD mod_auth texts)', () => {
  it('greets, refuses commands before login, logs in', async () => {
    const h = new Harness();
    expect(h.start()).toEqual(['220 ftpkit Server (ftpkit) [127.0.0.1]']);
    await h.transcript(`
      C: PASV
      S: 530 Please login with USER and PASS
      C: PWD
      S: 530 Please login with USER and PASS
      C: PASS secret
      S: 503 Login with USER first
      C: USER ftptest
      S: 331 Password required for ftptest
      C: PASS wrong
      S: 530 Login incorrect.
      C: PASS secret
      S: 503 Login with USER first
      C: USER ftptest
      S: 331 Password required for ftptest
      C: PASS secret
      S: 230 User ftptest logged in
      C: USER other
      S: 501 Reauthentication not supported
      C: PASS again
      S: 503 You are already logged in
      C: ACCT billing
      S: 502 ACCT command not implemented
      C: ACCT
      S: 502 ACCT command not implemented
      C: PWD
      S: 257 "/" is the current directory
    `);
    expect(h.eventsOf('login')).toEqual([
      { type: 'login', level: 'info', message: 'USER ftptest: Login successful.', user: 'ftptest', anonymous: false },
    ]);
    expect(h.eventsOf('login-failed')[0]?.message).toBe('USER ftptest (Login failed): Incorrect password');
    expect(h.eventsOf('open')[0]?.message).toBe('FTP session opened.');
  });

  it('anonymous login texts', async () => {
    const h = new Harness();
    h.start();
    await h.transcript(`
      C: USER anonymous
      S: 331 Anonymous login ok, send your complete email address as your password
      C: PASS me@example.com
      S: 230 Anonymous access granted, restrictions apply
    `);
    expect(h.eventsOf('login')[0]?.message).toBe('ANON anonymous: Login successful.');
  });

  it('MaxLoginAttempts: the last failure answers 530 and closes', async () => {
    const h = new Harness({ config: { maxLoginAttempts: 2 } });
    h.start();
    await h.transcript(`
      C: USER ftptest
      S: 331 Password required for ftptest
      C: PASS bad1
      S: 530 Login incorrect.
      C: USER ftptest
      S: 331 Password required for ftptest
      C: PASS bad2
      S: 530 Login incorrect.
    `);
    expect(h.control.closed).toBe(true);
    await h.session.closed;
    expect(h.eventsOf('login-failed').map((e) => e.message)).toEqual([
      'USER ftptest (Login failed): Incorrect password',
      'USER ftptest (Login failed): Incorrect password',
      'Maximum login attempts (2) exceeded, connection refused',
    ]);
    expect(h.eventsOf('close')[0]?.reason).toBe('login-attempts');
    // Nothing more is read after the end.
    h.raw('NOOP\r\n');
    await settle();
    expect(h.control.take()).toEqual([]);
  });

  it('an authenticator failure is a failed login, reported as an error event', async () => {
    const h = new Harness();
    h.start();
    h.auth.throwNext = true;
    await h.transcript(`
      C: USER ftptest
      S: 331 Password required for ftptest
      C: PASS secret
      S: 530 Login incorrect.
    `);
    expect(h.eventsOf('error')).toHaveLength(1);
    expect(h.eventsOf('login-failed')[0]?.reason).toBe('error');
  });

  it('<Limit LOGIN> is checked at PASS with the post-login configuration', async () => {
    const seen: string[] = [];
    const h = new Harness({
      config: {
        onLogin: (u) => ({
          limit: (verb, ctx) => {
            seen.push(`${verb}:${ctx.user}:${ctx.groups.join(',')}`);
            return verb === 'LOGIN' && u.name === 'ftptest' ? 'deny' : 'allow';
          },
        }),
      },
    });
    h.start();
    await h.transcript(`
      C: USER ftptest
      S: 331 Password required for ftptest
      C: PASS secret
      S: 530 Login incorrect.
      C: PWD
      S: 530 Please login with USER and PASS
    `);
    expect(seen).toEqual(['LOGIN:ftptest:ftptest']);
    expect(h.eventsOf('login-failed')[0]?.message).toBe('USER ftptest (Login failed): Limit access denies login');
  });

  it('onLogin configuration applies after PASS (mod_ifsession <IfUser>)', async () => {
    const h = new Harness({
      config: {
        serverName: 'before',
        onLogin: (u) => ({ serverName: `after ${u.name}`, limit: (verb) => (verb === 'PWD' ? 'deny' : 'allow') }),
      },
    });
    expect(h.start()).toEqual(['220 ftpkit Server (before) [127.0.0.1]']);
    await h.transcript(`
      C: USER ftptest
      S: 331 Password required for ftptest
      C: PASS secret
      S: 230 User ftptest logged in
      C: PWD
      S: 550 PWD: Permission denied
    `);
  });

  it('REIN is not implemented (ProFTPD 1.3.8: 502) and changes nothing; QUIT says goodbye and closes', async () => {
    const h = new Harness();
    h.start();
    await h.transcript(`
      C: REIN
      S: 502 REIN command not implemented
      C: USER ftptest
      S: 331 Password required for ftptest
      C: PASS secret
      S: 230 User ftptest logged in
      C: TYPE I
      S: 200 Type set to I
      C: REIN
      S: 502 REIN command not implemented
      C: PWD
      S: 257 "/" is the current directory
      C: SIZE /x
      S: 550 /x: No such file or directory
      C: QUIT
      S: 221 Goodbye.
    `);
    expect(h.control.closed).toBe(true);
    await h.session.closed;
    expect(h.eventsOf('close')).toEqual([{ type: 'close', level: 'info', message: 'FTP session closed.', reason: 'quit' }]);
  });

  it('the home directory is the start directory and ~ expands to it', async () => {
    const h = new Harness({ users: { u: { password: 'p', home: '/home/u' } } });
    h.fs.addDir('/home');
    h.fs.addDir('/home/u');
    h.fs.addDir('/tmp');
    await h.login('u', 'p');
    await h.transcript(`
      C: PWD
      S: 257 "/home/u" is the current directory
      C: CWD /tmp
      S: 250 CWD command successful
      C: CWD ~
      S: 250 CWD command successful
      C: PWD
      S: 257 "/home/u" is the current directory
    `);
  });

  it('banner forms: ServerIdent off, custom text, masquerade address', async () => {
    expect(new Harness({ config: { serverIdent: false } }).start()).toEqual(['220 127.0.0.1 FTP server ready']);
    expect(new Harness({ config: { banner: 'Welcome' } }).start()).toEqual(['220 Welcome']);
    expect(new Harness({ config: { serverIdent: 'Hello' } }).start()).toEqual(['220 Hello']);
    const { MasqueradeResolver } = await import('@ftpkit/masquerade');
    const masquerade = new MasqueradeResolver({ policies: [{ kind: 'static', address: '203.0.113.7' }], guard: false });
    expect(new Harness({ config: { serverName: 'NAT probe', masquerade } }).start()).toEqual([
      '220 ftpkit Server (NAT probe) [203.0.113.7]',
    ]);
  });

  it('closing from the peer resolves closed and stops everything', async () => {
    const h = new Harness();
    h.start();
    h.session.close();
    await h.session.closed;
    expect(h.clock.pending).toBe(0);
    expect(h.eventsOf('close')[0]?.reason).toBe('peer');
    h.session.close();
    expect(h.eventsOf('close')).toHaveLength(1);
  });
});
