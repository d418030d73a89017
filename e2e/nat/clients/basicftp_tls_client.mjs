// basic-ftp over explicit FTPS (secure: true) through the NAT, PASV (IPv4) only.
// argv: host port user pass download uploadSrc uploadName
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { Client, enterPassiveModeIPv4 } from 'basic-ftp';

const [host, port, user, password, down, upSrc, upName] = process.argv.slice(2);
const client = new Client(20_000);
const replies = [];
client.ftp.log = (m) => { if (/^< 227/.test(m)) replies.push(m.slice(2)); };
client.ftp.verbose = true;
try {
  await client.access({ host, port: Number(port), user, password, secure: true, secureOptions: { rejectUnauthorized: false } });
  client.prepareTransfer = enterPassiveModeIPv4;
  const h = createHash('sha256');
  await client.downloadTo(new Writable({ write(c, _e, cb) { h.update(c); cb(); } }), down);
  await client.uploadFrom(createReadStream(upSrc), upName);
  const list = await client.list();
  console.log(JSON.stringify({ replies, tls: client.ftp.socket.getProtocol?.(), retr_sha256: h.digest('hex'), list: list.map((f) => f.name) }));
} finally {
  client.close();
}
