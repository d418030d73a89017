/**
 * A client process killed mid-transfer (SIGKILL: the kernel closes its sockets). The
 * server ends the session, logs the transfer as incomplete, keeps no descriptor, and an
 * interrupted upload is not visible under its name: with HiddenStores on (the upload is
 * written to `.in.<name>.` and renamed when complete) and with DeleteAbortedStores on.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { FtpClient, closeAll, connectSocket, sleep } from '../lib/ftp.js';
import { PASSWORD, USER, describeSockets, settleFds, startServer, stopAll, type Served } from '../lib/server.js';

const CHILD = fileURLToPath(new URL('../lib/client-child.mjs', import.meta.url));
afterEach(() => closeAll());
afterAll(() => stopAll());

/** Runs the child client and SIGKILLs it once it reported `killAfter` bytes of progress. */
function killMidTransfer(srv: Served, verb: 'STOR' | 'RETR', path: string, killAfter: number): Promise<{ started: boolean; bytes: number }> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify({ port: srv.port, user: USER, password: PASSWORD, verb, path })], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let started = false;
    let bytes = 0;
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child never reached ${killAfter} bytes: ${out.slice(-200)}`));
    }, 15_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('started')) started = true;
      const m = /progress (\d+)\n(?![\s\S]*progress)/.exec(out);
      if (m !== null) bytes = Number(m[1]);
      if (bytes >= killAfter && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve({ started, bytes });
    });
  });
}

const hidden = (dir: string): string[] => readdirSync(dir).filter((n) => n.startsWith('.in.'));

for (const [label, directives] of [
  ['HiddenStores on', ['HiddenStores on']],
  ['DeleteAbortedStores on', ['HiddenStores off', 'DeleteAbortedStores on']],
] as const) {
  describe(`${label}`, () => {
    let srv: Served;
    beforeAll(async () => {
      srv = await startServer({ directives: [...directives] });
      writeFileSync(join(srv.root, 'big.bin'), '');
      truncateSync(join(srv.root, 'big.bin'), 1 << 30); // sparse: 1 GiB of zeros, instantly
    });

    // In FTP's stream mode the end of the data connection is the end of the file. The
    // kernel closes a killed client's sockets with a FIN, so a truncated upload whose data FIN
    // the server handles before the control connection's close cannot be told from a whole
    // one (ProFTPD alike). What must hold: the upload is either not published, or published
    // whole as received (never mixed with old bytes, never a temporary file left).
    test('SIGKILL mid-STOR: not published, or published whole as received; no temporary file; descriptors return', async () => {
      const before = srv.fds();
      for (let i = 0; i < 3; i++) {
        const r = await killMidTransfer(srv, 'STOR', `upload-${i}.bin`, 4 << 20);
        expect(r.started).toBe(true);
        await srv.waitFor(new RegExp(`upload of /upload-${i}\\.bin (in)?complete`), 10_000);
      }
      await sleep(200);
      for (let i = 0; i < 3; i++) {
        const path = join(srv.root, `upload-${i}.bin`);
        if (existsSync(path)) expect(readFileSync(path).every((b) => b === 0x5a), `${path} holds other bytes`).toBe(true);
      }
      expect(hidden(srv.root)).toEqual([]);
      expect(await settleFds(srv, before, 15_000), describeSockets(srv)).toBeLessThanOrEqual(before);
    });

    test('control connection lost mid-STOR (the data connection ends 200 ms later): nothing under the name', async () => {
      const c = await FtpClient.connect(srv.port);
      expect((await c.login(USER, PASSWORD)).code).toBe(230);
      const d = await connectSocket((await c.pasv()).port);
      expect((await c.cmd('STOR lost.bin')).code).toBe(150);
      d.write(Buffer.alloc(2 << 20, 0x5a));
      await sleep(200);
      c.socket.end();
      await sleep(200);
      d.end();
      await srv.waitFor(/upload of \/lost\.bin incomplete/, 10_000);
      await sleep(200);
      expect(existsSync(join(srv.root, 'lost.bin'))).toBe(false);
      expect(hidden(srv.root)).toEqual([]);
    });

    test('SIGKILL mid-STOR over an existing file: the old content, or the whole received upload, never a mix', async () => {
      const old = Buffer.alloc(1000, 0x41);
      const path = join(srv.root, 'existing.bin');
      writeFileSync(path, old);
      await killMidTransfer(srv, 'STOR', 'existing.bin', 4 << 20);
      await srv.waitFor(/upload of \/existing\.bin (in)?complete/, 10_000);
      await sleep(200);
      const now = existsSync(path) ? readFileSync(path) : undefined;
      const whole = now !== undefined && now.length > old.length && now.every((b) => b === 0x5a);
      if (label === 'HiddenStores on') expect(now?.equals(old) === true || whole, 'old content or the whole upload').toBe(true);
      else expect(now === undefined || whole, 'gone or the whole upload').toBe(true);
      expect(hidden(srv.root)).toEqual([]);
    });

    test('SIGKILL mid-RETR: the session ends, the transfer is logged incomplete, descriptors return', async () => {
      const before = srv.fds();
      const r = await killMidTransfer(srv, 'RETR', 'big.bin', 1 << 20);
      expect(r.started).toBe(true);
      await srv.waitFor(/download of \/big\.bin incomplete/, 10_000);
      expect(await settleFds(srv, before, 15_000), describeSockets(srv)).toBeLessThanOrEqual(before);
      expect(srv.alive()).toBe(true);
    });
  });
}
