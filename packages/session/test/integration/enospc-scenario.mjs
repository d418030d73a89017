// Runs in a private mount namespace (unshare -rm) with a 256 KiB tmpfs mounted on
// argv[2]: a full disk must reach the client as ENOSPC / 452, and leave nothing behind.
// Prints one JSON object. Driven by fs.test.ts.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import { createFtpServer, localFileSystem } from '../../dist/node/index.js';

const dir = process.argv[2];
const out = {};

// The file system alone.
const fs = localFileSystem({ root: dir, ownerNames: false });
const sink = await fs.write('/big', { mode: 'create', start: 0 });
out.fsCode = 'none';
try {
  for (let i = 0; i < 64; i++) await sink.write(Buffer.alloc(65536, 1));
  await sink.end();
} catch (e) {
  out.fsCode = e.code;
  await sink.abort();
}
out.fsLeft = readdirSync(dir);

// Through the server: STOR of 1 MiB onto the full disk.
const server = createFtpServer({
  listen: { host: '127.0.0.1', port: 0 },
  authenticator: { authenticate: async () => ({ name: 'u', groups: ['u'], anonymous: false, fileSystem: fs }) },
});
const [{ port }] = await server.listen();
const replies = [];
await new Promise((resolve) => {
  const c = net.connect(port, '127.0.0.1');
  let buf = '';
  c.on('data', (d) => {
    buf += d;
    const lines = buf.split('\r\n');
    buf = lines.pop();
    for (const line of lines) {
      replies.push(line);
      if (line.startsWith('227 ')) {
        const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(line);
        const data = net.connect(Number(m[5]) * 256 + Number(m[6]), '127.0.0.1');
        data.on('error', () => undefined);
        data.on('connect', () => {
          c.write('STOR full.bin\r\n');
          data.end(Buffer.alloc(1024 * 1024, 2));
        });
      }
      if (/^4\d\d |^226 /.test(line)) c.end('QUIT\r\n');
    }
  });
  c.on('close', resolve);
  c.write('USER u\r\nPASS p\r\nTYPE I\r\nPASV\r\n');
});
await server.close();
out.storReply = replies.find((l) => /^(4|5)\d\d |^226 /.test(l));
out.serverLeft = readdirSync(dir);

// In place (no hidden stores, ProFTPD's default): a refused write removes the file the
// upload created or truncated; an append keeps the bytes that were there.
const inPlace = localFileSystem({ root: dir, ownerNames: false, hiddenStores: false });
writeFileSync(join(dir, 'old.txt'), 'old\n');
writeFileSync(join(dir, 'replaced.txt'), 'replaced\n');
for (const [name, mode] of [['new.bin', 'create'], ['replaced.txt', 'create'], ['old.txt', 'append']]) {
  const s = await inPlace.write(`/${name}`, { mode, start: 0 });
  try {
    for (let i = 0; i < 64; i++) await s.write(Buffer.alloc(65536, 3));
    await s.end();
  } catch {
    await s.abort();
  }
}
out.inPlaceLeft = readdirSync(dir).sort();
out.appendedKept = readFileSync(join(dir, 'old.txt')).subarray(0, 4).toString();
console.log(JSON.stringify(out));
