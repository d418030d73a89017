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
import { closeAll, sleep } from '../lib/ftp.js';
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

    test('SIGKILL mid-STOR: no file under the name, no temporary file left, descriptors return', async () => {
      const before = srv.fds();
      const r = await killMidTransfer(srv, 'STOR', 'upload.bin', 4 << 20);
      expect(r.started).toBe(true);
      await srv.waitFor(/upload of \/upload\.bin incomplete/, 10_000);
      await sleep(200);
      expect(existsSync(join(srv.root, 'upload.bin')), `files: ${readdirSync(srv.root).join(', ')}`).toBe(false);
      expect(hidden(srv.root)).toEqual([]);
      expect(await settleFds(srv, before, 15_000), describeSockets(srv)).toBeLessThanOrEqual(before);
    });

    test('SIGKILL mid-STOR over an existing file: the old content stays intact (HiddenStores) or is gone, never half-written', async () => {
      const old = Buffer.alloc(1000, 0x41);
      writeFileSync(join(srv.root, 'existing.bin'), old);
      await killMidTransfer(srv, 'STOR', 'existing.bin', 4 << 20);
      await srv.waitFor(/upload of \/existing\.bin incomplete/, 10_000);
      await sleep(200);
      const path = join(srv.root, 'existing.bin');
      if (label === 'HiddenStores on') {
        expect(readFileSync(path).equals(old)).toBe(true);
      } else expect(existsSync(path)).toBe(false);
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
