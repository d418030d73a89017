import { describe, expect, it } from 'vitest';
import { Harness, settle } from './harness.js';

describe('loginFailureDelay (ProFTPD mod_delay DelayOnEvent FailedLogin)', () => {
  it('the 530 of a failed PASS leaves only once the delay has passed on the session clock', async () => {
    const h = new Harness({ config: { loginFailureDelay: 1000 } });
    h.start();
    expect(await h.send('USER ftptest')).toEqual(['331 Password required for ftptest']);
    expect(await h.send('PASS wrong')).toEqual([]);
    expect(h.eventsOf('login-failed')).toHaveLength(1);
    h.clock.advance(999);
    await settle();
    expect(h.control.take()).toEqual([]);
    h.clock.advance(1);
    await settle();
    expect(h.control.take()).toEqual(['530 Login incorrect.']);
    expect(h.eventsOf('login-failed')[0]?.message).toBe('USER ftptest (Login failed): Incorrect password');
  });

  it('commands sent during the delay wait behind it, in order; a right password is not delayed', async () => {
    const h = new Harness({ config: { loginFailureDelay: 500 } });
    h.start();
    h.raw('USER ftptest\r\nPASS wrong\r\nUSER ftptest\r\nPASS secret\r\nPWD\r\n');
    await settle();
    expect(h.control.take()).toEqual(['331 Password required for ftptest']);
    h.clock.advance(500);
    await settle();
    expect(h.control.take()).toEqual([
      '530 Login incorrect.',
      '331 Password required for ftptest',
      '230 User ftptest logged in',
      '257 "/" is the current directory',
    ]);
    expect(h.clock.pending).toBe(1); // the session's own timeout timer only
  });

  it('the delay counts from the PASS command: a slow check is not delayed twice', async () => {
    const h = new Harness({ config: { loginFailureDelay: 1000 } });
    const authenticate = h.auth.authenticate.bind(h.auth);
    let release: (() => void) | undefined;
    h.auth.authenticate = async (request) => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return authenticate(request);
    };
    h.start();
    await h.send('USER ftptest');
    expect(await h.send('PASS wrong')).toEqual([]);
    h.clock.advance(1200);
    release?.();
    await settle();
    expect(h.control.take()).toEqual(['530 Login incorrect.']);
  });

  it('the last allowed attempt is delayed too, then the session closes', async () => {
    const h = new Harness({ config: { loginFailureDelay: 300, maxLoginAttempts: 1 } });
    h.start();
    await h.send('USER ftptest');
    expect(await h.send('PASS wrong')).toEqual([]);
    expect(h.control.closed).toBe(false);
    h.clock.advance(300);
    await settle();
    expect(h.control.take()).toEqual(['530 Login incorrect.']);
    expect(h.control.closed).toBe(true);
  });

  it('a session closed during the delay gets no reply, and its timer is cancelled', async () => {
    const h = new Harness({ config: { loginFailureDelay: 1000 } });
    h.start();
    await h.send('USER ftptest');
    await h.send('PASS wrong');
    expect(h.clock.pending).toBe(2); // login timeout + the delay
    h.session.close();
    await settle();
    expect(h.clock.pending).toBe(0);
    h.clock.advance(5000);
    await settle();
    expect(h.control.take()).toEqual([]);
    // The failure is logged when it happens, so a client that hangs up is still on record.
    expect(h.eventsOf('login-failed').map((e) => e.message)).toEqual(['USER ftptest (Login failed): Incorrect password']);
    expect(h.eventsOf('close')).toHaveLength(1);
  });

  it('TimeoutLogin during the delay ends the session with its 421 and no 530', async () => {
    const h = new Harness({ config: { loginFailureDelay: 5000, timeouts: { login: 2 } } });
    h.start();
    await h.send('USER ftptest');
    await h.send('PASS wrong');
    h.clock.advance(2000);
    await settle();
    expect(h.control.take()).toEqual(['421 Login timeout (2 seconds): closing control connection']);
    h.clock.advance(5000);
    await settle();
    expect(h.control.take()).toEqual([]);
    expect(h.clock.pending).toBe(0);
  });

  it('0 (the default) answers at once', async () => {
    const h = new Harness();
    h.start();
    await h.send('USER ftptest');
    expect(await h.send('PASS wrong')).toEqual(['530 Login incorrect.']);
  });
});
