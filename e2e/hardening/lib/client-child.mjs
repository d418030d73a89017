// A separate FTP client process that the tests SIGKILL mid-transfer (a crashed client).
// argv[2]: JSON { port, user, password, verb: 'STOR' | 'RETR', path, rate? }
// Prints "started" once the 150 arrived, then "progress <bytes>" lines.
import net from 'node:net';

const { port, user, password, verb, path } = JSON.parse(process.argv[2]);
const control = net.connect({ port, host: '127.0.0.1' });
let buf = '';
const replies = [];
let waiting;
control.on('data', (d) => {
  buf += d.toString('latin1');
  let i;
  while ((i = buf.indexOf('\r\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 2);
    if (/^\d{3} /.test(line)) {
      replies.push(line);
      waiting?.();
    }
  }
});
const reply = async () => {
  while (replies.length === 0) await new Promise((r) => (waiting = r));
  return replies.shift();
};
const cmd = async (line) => {
  control.write(`${line}\r\n`);
  return reply();
};
await reply();
await cmd(`USER ${user}`);
await cmd(`PASS ${password}`);
await cmd('TYPE I');
const pasv = await cmd('PASV');
const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(pasv);
const data = net.connect({ port: Number(m[5]) * 256 + Number(m[6]), host: '127.0.0.1' });
await new Promise((r) => data.once('connect', r));
control.write(`${verb} ${path}\r\n`);
const first = await reply();
if (!first.startsWith('150')) {
  console.log(`refused ${first}`);
  process.exit(1);
}
console.log('started');
let bytes = 0;
if (verb === 'RETR') {
  data.on('data', (d) => {
    bytes += d.length;
    console.log(`progress ${bytes}`);
  });
} else {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const pump = () => {
    while (data.write(chunk)) {
      bytes += chunk.length;
      console.log(`progress ${bytes}`);
    }
    data.once('drain', pump);
  };
  pump();
}
