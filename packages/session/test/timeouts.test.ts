import { describe, expect, it } from 'vitest';
import { Harness, settle } from './harness.js';

describe('timeouts (reference §7.1)', () => {
  it('TimeoutLogin: 421 then close; singular second', async () => {
    const h = new Harness({ config: { timeouts: { login: 2 } } });
    h.start();
    h.clock.advance(1999);
    expect(h.control.closed).toBe(false);
    h.clock.advance(1);
    expect(h.control.take()).toEqual(['421 Login timeout (2 seconds): closing control connection']);
    expect(h.control.closed).toBe(true);
    await h.session.closed;
    expect(h.eventsOf('timeout')[0]).toMatchObject({ kind: 'login', message: 'Login timeout exceeded, disconnected' });
    const one = new Harness({ config: { timeouts: { login: 1 } } });
    one.start();
    one.clock.advance(1000);
    expect(one.control.take()).toEqual(['421 Login timeout (1 second): closing control connection']);
  });

  it('login stops the login timer', async () => {
    const h = new Harness({ config: { timeouts: { login: 2, idle: 0 } } });
    await h.login();
    h.clock.advance(10_000);
    expect(h.control.closed).toBe(false);
  });

  it('TimeoutIdle: reset by every command', async () => {
    const h = new Harness({ config: { timeouts: { idle: 3 } } });
    await h.login();
    h.clock.advance(2000);
    await h.send('NOOP');
    h.clock.advance(2000);
    expect(h.control.closed).toBe(false);
    h.clock.advance(1000);
    expect(h.control.take()).toEqual(['421 Idle timeout (3 seconds): closing control connection']);
    expect(h.eventsOf('timeout')[0]?.message).toBe('Client session idle timeout, disconnected');
    expect(h.control.closed).toBe(true);
  });

  it('TimeoutNoTransfer: with the passive notices when a listener waits', async () => {
    const h = new Harness({ config: { timeouts: { noTransfer: 4, idle: 0, passiveAccept: 0 } } });
    await h.login();
    await h.send('PASV');
    h.clock.advance(2000);
    await h.send('NOOP');
    h.clock.advance(2000);
    expect(h.control.take()).toEqual(['421 No transfer timeout (4 seconds): closing control connection']);
    const [e] = h.eventsOf('timeout');
    expect(e?.message).toBe('FTP no transfer timeout, disconnected');
    expect(e?.notices).toEqual([
      'Passive data transfer failed, possibly due to network issues',
      'Check your PassivePorts and MasqueradeAddress settings,',
      'and any router, NAT, and firewall rules in the network path.',
    ]);
    expect(h.data.last.closed).toBe(true);
  });

  it('TimeoutNoTransfer counts from the last transfer', async () => {
    const h = new Harness({ config: { timeouts: { noTransfer: 4, idle: 0 } } });
    h.fs.addFile('/f', 'x');
    await h.login();
    h.clock.advance(3000);
    await h.send('PASV');
    h.data.last.connect();
    await h.send('RETR f');
    h.clock.advance(3000);
    expect(h.control.closed).toBe(false);
    h.clock.advance(1000);
    expect(h.control.closed).toBe(true);
  });

  it('TimeoutStalled: a transfer without progress is cut, 421, close', async () => {
    const h = new Harness({ config: { timeouts: { stalled: 3, idle: 1 } } });
    h.fs.addFile('/f', 'abcdefgh');
    await h.login();
    await h.send('PASV');
    const conn = h.data.last.connect();
    conn.hold();
    h.raw('RETR f\r\n');
    await settle();
    expect(h.control.take()).toEqual(['150 Opening ASCII mode data connection for f (8 bytes)']);
    h.clock.advance(2999); // idle (1 s) does not apply during a transfer
    expect(h.control.closed).toBe(false);
    h.clock.advance(1);
    expect(h.control.take()).toEqual(['421 Data transfer stall timeout (3 seconds): closing control connection']);
    expect(h.eventsOf('timeout')[0]).toMatchObject({ kind: 'stalled', message: 'Data transfer stall timeout: 3 seconds' });
    expect(conn.destroyed).toBe(true);
    await settle();
    expect(h.eventsOf('transfer-end')[0]).toMatchObject({ completion: 'i', reason: 'timeout' });
  });

  it('TimeoutStalled also covers waiting for the data connection', async () => {
    const h = new Harness({ config: { timeouts: { stalled: 3, passiveAccept: 0 } } });
    h.fs.addFile('/f', 'x');
    await h.login();
    await h.send('PASV');
    h.raw('RETR f\r\n');
    await settle();
    h.clock.advance(3000);
    expect(h.control.take()).toEqual(['421 Data transfer stall timeout (3 seconds): closing control connection']);
    expect(h.data.last.closed).toBe(true);
  });

  it('progress keeps a slow transfer alive', async () => {
    const h = new Harness({ config: { timeouts: { stalled: 3 } } });
    await h.login();
    await h.send('TYPE I');
    await h.send('PASV');
    const conn = h.data.last.connect();
    h.raw('STOR up\r\n');
    await settle();
    for (let i = 0; i < 5; i++) {
      h.clock.advance(2000);
      conn.upload('x');
      await settle();
    }
    expect(h.control.closed).toBe(false);
    conn.finish();
    await settle();
    expect(h.control.take()).toEqual(['150 Opening BINARY mode data connection for up', '226 Transfer complete']);
  });

  it('timeouts set to 0 are off; one timer at a time', async () => {
    const h = new Harness({ config: { timeouts: { login: 0, idle: 0, noTransfer: 0, stalled: 0, passiveAccept: 0 } } });
    h.start();
    expect(h.clock.pending).toBe(0);
    const d = new Harness();
    await d.login();
    for (let i = 0; i < 20; i++) await d.send('NOOP');
    expect(d.clock.pending).toBe(1);
  });
});
