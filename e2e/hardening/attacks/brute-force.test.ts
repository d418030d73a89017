/**
 * Brute-force logins: MaxLoginAttempts ends the session (ProFTPD's reply and log line),
 * unknown and known users look the same on the wire and in time, failures are slowed
 * down, and a flood of password guesses does not stall the other sessions.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, closeAll, sleep } from '../lib/ftp.js';
import { PASSWORD, USER, describeSockets, settleFds, startServer, stopAll, type Served } from '../lib/server.js';

let srv: Served;
let lenient: Served;
beforeAll(async () => {
  srv = await startServer({ directives: ['MaxLoginAttempts 2'] });
  // Without the failed-login delay, so the timing and load tests see the password checks themselves.
  lenient = await startServer({ directives: ['MaxLoginAttempts 1000', 'DelayEngine off'] });
});
afterEach(() => closeAll());
afterAll(() => stopAll());

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1] as number;

async function timedPass(c: FtpClient, user: string, password: string): Promise<{ ms: number; code: number; text: string; user331: string }> {
  const u = await c.cmd(`USER ${user}`);
  const t0 = performance.now();
  const r = await c.cmd(`PASS ${password}`, 10_000);
  return { ms: performance.now() - t0, code: r.code, text: r.text, user331: `${u.code} ${u.text.replace(user, '<user>')}` };
}

describe('brute-force logins', () => {
  test('MaxLoginAttempts 2: two wrong passwords, then the connection is closed, with ProFTPD\'s log lines', async () => {
    const c = await FtpClient.connect(srv.port);
    for (let i = 0; i < 2; i++) {
      expect((await c.cmd(`USER ${USER}`)).code).toBe(331);
      const r = await c.cmd(`PASS wrong-${i}`);
      expect(`${r.code} ${r.text}`).toBe('530 Login incorrect.');
    }
    await Promise.race([c.closed, sleep(3000).then(() => { throw new Error('not closed after MaxLoginAttempts'); })]);
    await srv.waitFor(/^Maximum login attempts \(2\) exceeded, connection refused$/);
    expect(srv.grep(/^USER alice \(Login failed\): Incorrect password$/).length).toBeGreaterThanOrEqual(2);
    // The right password on a new connection still works.
    const ok = await FtpClient.connect(srv.port);
    expect((await ok.login(USER, PASSWORD)).code).toBe(230);
    await ok.quit();
  });

  test('pipelined guesses after the last allowed attempt are never tried', async () => {
    const c = await FtpClient.connect(srv.port);
    c.write(Array.from({ length: 20 }, (_, i) => `USER ${USER}\r\nPASS guess-${i}\r\n`).join('') + `USER ${USER}\r\nPASS ${PASSWORD}\r\n`);
    await Promise.race([c.closed, sleep(5000)]);
    expect(c.received).not.toMatch(/^230/m);
    expect((c.received.match(/^530 /gm) ?? []).length).toBe(2);
  });

  test('an unknown user gets the same replies as a known one', async () => {
    const c = await FtpClient.connect(lenient.port);
    const known = await timedPass(c, USER, 'wrong');
    const unknown = await timedPass(c, 'no-such-user', 'wrong');
    expect(unknown.user331).toBe(known.user331);
    expect(`${unknown.code} ${unknown.text}`).toBe(`${known.code} ${known.text}`);
    await c.quit();
  });

  test('an unknown user is not answered measurably faster than a known one (no user enumeration by timing)', async () => {
    const c = await FtpClient.connect(lenient.port);
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 12; i++) {
      known.push((await timedPass(c, USER, `wrong-${i}`)).ms);
      unknown.push((await timedPass(c, `ghost${i}`, `wrong-${i}`)).ms);
    }
    await c.quit();
    expect(median(unknown), `median 530 after ${median(unknown).toFixed(1)} ms for unknown users, ${median(known).toFixed(1)} ms for a known one`).toBeGreaterThanOrEqual(median(known) * 0.5);
  });

  // ftpkit serve's default (DelayEngine on, no DelayOnEvent FailedLogin): 1 s after the PASS.
  test('a failed login is answered only after a delay (at least 500 ms)', async () => {
    const c = await FtpClient.connect(srv.port);
    const r = await timedPass(c, USER, 'wrong');
    expect(r.code).toBe(530);
    expect(r.ms).toBeGreaterThanOrEqual(500);
    // The right password right after is answered at once.
    expect((await c.cmd(`USER ${USER}`)).code).toBe(331);
    const t0 = performance.now();
    expect((await c.cmd(`PASS ${PASSWORD}`)).code).toBe(230);
    expect(performance.now() - t0).toBeLessThan(500);
    await c.quit();
  });

  test('clients that hang up during the delay: every failure is logged, nothing is left behind, other sessions are answered meanwhile', async () => {
    // Parallel logins first, so the password-check worker pool has its full size in the baseline.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        const c = await FtpClient.connect(srv.port);
        expect((await c.login(USER, PASSWORD)).code).toBe(230);
        await c.quit();
      }),
    );
    const before = srv.fds();
    const failures = (): number => srv.grep(/^USER alice \(Login failed\): Incorrect password$/).length;
    const logged = failures();
    const quitters = await Promise.all(Array.from({ length: 20 }, () => FtpClient.connect(srv.port)));
    for (const q of quitters) q.write(`USER ${USER}\r\nPASS wrong\r\n`);
    // Each failure is logged when the password check ends, before its delayed 530 (fail2ban reads these lines).
    for (let i = 0; i < 100 && failures() - logged < 20; i++) await sleep(50);
    expect(failures() - logged).toBe(20);
    for (const q of quitters) q.destroy();
    const other = await FtpClient.connect(srv.port);
    const t0 = performance.now();
    expect((await other.cmd('NOOP')).code).toBe(200);
    expect(performance.now() - t0).toBeLessThan(200);
    await other.quit();
    expect(await settleFds(srv, before), describeSockets(srv)).toBeLessThanOrEqual(before);
    expect(srv.alive()).toBe(true);
  });

  // Password checks must not run on the event loop (SHA-512-crypt costs ~10-70 ms a guess).
  test('16 parallel password guessers do not stall another session (NOOP round trip < 100 ms)', async () => {
    const attackers = await Promise.all(Array.from({ length: 16 }, () => FtpClient.connect(lenient.port)));
    let stop = false;
    const guesses = attackers.map(async (a, n) => {
      for (let i = 0; !stop; i++) {
        const r = await timedPass(a, USER, `guess-${n}-${i}`).catch(() => undefined);
        if (r === undefined) return;
      }
    });
    const victim = await FtpClient.connect(lenient.port);
    expect((await victim.login(USER, PASSWORD)).code).toBe(230);
    await sleep(300);
    const rtts: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      expect((await victim.cmd('NOOP', 20_000)).code).toBe(200);
      rtts.push(performance.now() - t0);
      await sleep(50);
    }
    stop = true;
    await Promise.all(guesses);
    await victim.quit();
    expect(median(rtts), `NOOP round trips: ${rtts.map((x) => x.toFixed(0)).join(', ')} ms`).toBeLessThan(100);
    expect(lenient.alive()).toBe(true);
  });
});
