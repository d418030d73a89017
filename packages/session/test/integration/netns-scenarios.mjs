// Runs inside a private network namespace (unshare -rn, lo up), where 127.0.0.2 and
// port 25 are ours: a stranger from another address connects to a passive port first,
// and PORT/EPRT to a foreign address or to port 25 must not connect (listeners there
// count connections). Prints one JSON object. Driven by netns.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFtpServer } from '../../dist/node/index.js';

const root = mkdtempSync(join(tmpdir(), 'ftpkit-netns-'));
const payload = Buffer.alloc(3 * 1024 * 1024, 'abcdefghij');
writeFileSync(join(root, 'file.bin'), payload);
const server = createFtpServer({ listen: { host: '127.0.0.1', port: 0 }, anonymous: true, root });
const events = [];
server.on('event', (e) => events.push(e.type));
const [{ port }] = await server.listen();

function client() {
  const s = net.connect(port, '127.0.0.1');
  let buf = '';
  const waiting = [];
  const replies = [];
  s.on('data', (d) => {
    buf += d.toString('latin1');
    for (let i; (i = buf.indexOf('\r\n')) !== -1; ) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (!/^\d{3} /.test(line)) continue;
      const w = waiting.shift();
      if (w) w(line);
      else replies.push(line);
    }
  });
  const next = () => (replies.length > 0 ? Promise.resolve(replies.shift()) : new Promise((resolve) => waiting.push(resolve)));
  const cmd = (line) => {
    const r = next();
    s.write(`${line}\r\n`);
    return r;
  };
  return { s, next, cmd };
}

const listen = (host, p) =>
  new Promise((resolve) => {
    let connections = 0;
    const l = net.createServer((c) => {
      connections++;
      c.destroy();
    });
    l.listen(p, host, () => resolve({ l, port: l.address().port, count: () => connections }));
  });
const connectFrom = (p, localAddress) =>
  new Promise((resolve, reject) => {
    const s = net.connect({ port: p, host: '127.0.0.1', localAddress });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const out = {};
const c = client();
out.banner = await c.next();
await c.cmd('USER anonymous');
out.login = await c.cmd('PASS guest@example.com');
await c.cmd('TYPE I');
const pasv = await c.cmd('PASV');
const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(pasv);
const dataPort = Number(m[5]) * 256 + Number(m[6]);

// The stranger (another address) connects first.
const stranger = await connectFrom(dataPort, '127.0.0.2');
stranger.on('error', () => undefined);
const strangerClosed = new Promise((resolve) => stranger.once('close', () => resolve(true)));
stranger.resume();
await sleep(50);
const retr = c.cmd('RETR file.bin');
const data = await connectFrom(dataPort, '127.0.0.1');
const chunks = [];
data.on('data', (d) => chunks.push(d));
const dataEnd = new Promise((resolve) => data.once('end', resolve));
out.retr = await retr;
await dataEnd;
out.done = await c.next();
out.bytesOk = Buffer.concat(chunks).equals(payload);
out.strangerClosed = await Promise.race([strangerClosed, new Promise((r) => setTimeout(r, 2000, false).unref())]);

// PORT/EPRT to a foreign address, and to port 25: refused, never connected.
const foreign = await listen('127.0.0.2', 0);
const smtp = await listen('127.0.0.1', 25);
const p1 = foreign.port >> 8;
const p2 = foreign.port & 255;
out.portForeign = await c.cmd(`PORT 127,0,0,2,${p1},${p2}`);
out.eprtForeign = await c.cmd(`EPRT |1|127.0.0.2|${foreign.port}|`);
out.port25 = await c.cmd('PORT 127,0,0,1,0,25');
out.eprt25 = await c.cmd('EPRT |1|127.0.0.1|25|');
out.listAfter = await c.cmd('LIST');
await sleep(300);
out.foreignConnections = foreign.count();
out.smtpConnections = smtp.count();
out.quit = await c.cmd('QUIT');
out.events = [...new Set(events)];
foreign.l.close();
smtp.l.close();
await server.close();

// IPv4 and IPv6 listeners; over IPv6, EPSV binds the IPv6 local address and PASV is 522.
const dual = createFtpServer({ listen: [{ host: '127.0.0.1', port: 0 }, { host: '::1', port: 0 }], anonymous: true, root });
out.dual = (await dual.listen()).map((b) => b.family);
const v6port = dual.addresses()[1].port;
const v6 = await new Promise((resolve) => {
  const s = net.connect(v6port, '::1');
  let text = '';
  const step = (want, then) => {
    const check = () => {
      if (!text.includes(want)) return false;
      s.off('data', check);
      then();
      return true;
    };
    if (!check()) s.on('data', check);
  };
  s.on('data', (d) => (text += d));
  step('220 ', () => {
    s.write('USER anonymous\r\nPASS x\r\nPASV\r\nEPSV\r\n');
    step('229 ', async () => {
      const p = Number(/\(\|\|\|(\d+)\|\)/.exec(text)[1]);
      const d = net.connect(p, '::1');
      let remote;
      d.once('connect', () => (remote = d.remoteAddress));
      const got = [];
      d.on('data', (x) => got.push(x));
      d.on('end', () => {
        step('226 ', () => {
          s.end('QUIT\r\n');
          resolve({ pasv: /^522 /m.test(text), remote, bytesOk: Buffer.concat(got).equals(payload) });
        });
      });
      s.write('TYPE I\r\nRETR file.bin\r\n');
    });
  });
});
out.v6 = v6;
await dual.close();
rmSync(root, { recursive: true, force: true });
console.log(JSON.stringify(out));
