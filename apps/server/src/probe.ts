/**
 * `ftpkit probe`: the NAT guide's FAQ "How do I know if my MasqueradeAddress and
 * PassivePorts configuration is working?", answered from the client's side.
 *
 * Connects, logs in, sends PASV and EPSV, decodes the address and port
 * (`a1.a2.a3.a4`, `p1*256+p2`; RFC 959 §4.1.2, RFC 2428 §3), says whether the address is
 * public or private and whether the port lies in the expected range, then opens the data
 * connection and runs LIST through it. When the advertised address does not answer, it
 * tries the same port at the address the control connection reached, to tell "wrong
 * MasqueradeAddress" apart from "passive range not forwarded".
 */
import { connect as netConnect, type Socket } from 'node:net';
import { ReplyDecoder, parseEpsv, parsePasv } from '@ftpkit/reply';
import { classifyAddress, unmapAddress, type AddressClass } from './address.js';
import type { PortRange } from './firewall.js';

export interface ProbeOptions {
  url: string;
  expectPorts?: readonly PortRange[];
  expectAddress?: string;
  /** Connect and reply timeout of each step (ms). */
  timeoutMs: number;
  pasv?: boolean;
  epsv?: boolean;
  list?: boolean;
}

/** One verdict line: `ok` true/false, or null for information only. */
export interface ProbeCheck {
  name: string;
  ok: boolean | null;
  detail: string;
}

export interface DataAttempt {
  host: string;
  port: number;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface PassiveProbe {
  command: 'PASV' | 'EPSV';
  reply?: string;
  address?: string;
  addressClass?: AddressClass;
  port?: number;
  portInRange?: boolean;
  data?: DataAttempt;
  /** The same port tried at the control connection's address after `data` failed. */
  fallback?: DataAttempt;
  list?: { ok: boolean; reply?: string; bytes?: number; entries?: number; error?: string };
  checks: ProbeCheck[];
  ok: boolean;
}

export interface ProbeReport {
  ok: boolean;
  url: string;
  host: string;
  port: number;
  user: string;
  /** The address the control connection reached. */
  controlAddress?: string;
  banner?: string;
  login?: { ok: boolean; reply: string };
  passive: PassiveProbe[];
  checks: ProbeCheck[];
  /** Plain-language explanation of every failure. */
  problems: string[];
}

interface Reply {
  code: number;
  text: string;
}

/** A control connection that hands out whole replies (decoded by @ftpkit/reply). */
class ControlConnection {
  private readonly decoder = new ReplyDecoder();
  private readonly replies: Reply[] = [];
  private waiter: ((r: Reply | Error) => void) | undefined;
  private failure: Error | undefined;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const r of this.decoder.push(new Uint8Array(chunk))) {
        if (r.ok) this.deliver({ code: r.code, text: r.text });
        else this.fail(new Error(`bad reply from the server: ${r.error.message}`));
      }
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the server closed the control connection')));
  }

  static open(host: string, port: number, timeoutMs: number): Promise<ControlConnection> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ControlConnection(socket));
      });
    });
  }

  private deliver(r: Reply): void {
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w(r);
    } else this.replies.push(r);
  }

  private fail(err: Error): void {
    if (this.failure !== undefined) return;
    this.failure = err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.(err);
  }

  read(timeoutMs: number): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (r) => {
        clearTimeout(timer);
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
    });
  }

  /** Send a command and read its (final, unless `preliminary`) reply. */
  async command(line: string, timeoutMs: number): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.read(timeoutMs);
  }

  close(): void {
    this.socket.destroy();
  }
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const code = typeof e.code === 'string' ? e.code : undefined;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ETIMEDOUT':
      return e.message.startsWith('no answer') ? e.message : 'timed out';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'ENOTFOUND':
      return 'name not found';
    default:
      return e.message ?? String(err);
  }
}

function connectData(host: string, port: number, timeoutMs: number): Promise<{ socket?: Socket; attempt: DataAttempt }> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ attempt: { host, port, ok: false, ms: elapsed(), error: `no answer within ${timeoutMs} ms` } });
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve({ attempt: { host, port, ok: false, ms: elapsed(), error: errorText(err) } });
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve({ socket, attempt: { host, port, ok: true, ms: elapsed() } });
    });
  });
}

/** Read the data connection to its end. */
function drain(socket: Socket, timeoutMs: number): Promise<{ bytes: Uint8Array } | { error: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let timer = setTimeout(stall, timeoutMs);
    function stall(): void {
      socket.destroy();
      resolve({ error: `the data connection stalled for ${timeoutMs} ms` });
    }
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(timer);
      timer = setTimeout(stall, timeoutMs);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      resolve({ error: errorText(err) });
    });
    socket.once('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ bytes: new Uint8Array(Buffer.concat(chunks)) });
    });
  });
}

const inRanges = (port: number, ranges: readonly PortRange[]): boolean => ranges.some((r) => port >= r.min && port <= r.max);
const fmtRanges = (ranges: readonly PortRange[]): string => ranges.map((r) => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`)).join(',');

/** Parse `ftp://[user[:pass]@]host[:port]`; user `anonymous` when absent. */
export function parseFtpUrl(text: string): { host: string; port: number; user: string; password: string } | { error: string } {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `ftp://${text}`);
  } catch {
    return { error: `'${text}' is not a URL such as ftp://ftp.example.com:21` };
  }
  if (url.protocol !== 'ftp:') return { error: `only ftp:// URLs can be probed (got ${url.protocol}//)` };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return { error: `'${text}' has no host` };
  const user = url.username === '' ? 'anonymous' : decodeURIComponent(url.username);
  const password =
    url.password !== '' ? decodeURIComponent(url.password) : user === 'anonymous' || user === 'ftp' ? 'probe@ftpkit.invalid' : '';
  return { host, port: url.port === '' ? 21 : Number(url.port), user, password };
}

/** Run the probe. Never throws for network trouble: every failure is in the report. */
export async function probe(options: ProbeOptions): Promise<ProbeReport> {
  const target = parseFtpUrl(options.url);
  const report: ProbeReport = {
    ok: false,
    url: options.url,
    host: 'host' in target ? target.host : '',
    port: 'port' in target ? target.port : 21,
    user: 'user' in target ? target.user : '',
    passive: [],
    checks: [],
    problems: [],
  };
  if ('error' in target) {
    report.problems.push(target.error);
    return report;
  }
  const t = options.timeoutMs;
  let control: ControlConnection;
  try {
    control = await ControlConnection.open(target.host, target.port, t);
  } catch (err) {
    const why = errorText(err);
    report.checks.push({ name: 'control connection', ok: false, detail: `${target.host}:${target.port}: ${why}` });
    report.problems.push(
      why === 'connection refused'
        ? `Nothing accepts connections on ${target.host}:${target.port}: is the server running, and does the router forward the control port?`
        : `Could not reach ${target.host}:${target.port} (${why}): a wrong address, or a firewall dropping the control port.`,
    );
    return report;
  }
  try {
    report.controlAddress = unmapAddress(control.socket.remoteAddress ?? target.host);
    report.checks.push({ name: 'control connection', ok: true, detail: `connected to ${report.controlAddress}:${target.port}` });
    const banner = await control.read(t);
    report.banner = `${banner.code} ${banner.text}`;
    if (banner.code !== 220) {
      report.checks.push({ name: 'greeting', ok: false, detail: report.banner });
      report.problems.push(`The server did not greet with 220: ${report.banner}`);
      return report;
    }
    let reply = await control.command(`USER ${target.user}`, t);
    if (reply.code === 331 || reply.code === 332) reply = await control.command(`PASS ${target.password}`, t);
    report.login = { ok: reply.code === 230 || reply.code === 202, reply: `${reply.code} ${reply.text}` };
    report.checks.push({ name: `login as ${target.user}`, ok: report.login.ok, detail: report.login.reply });
    if (!report.login.ok) {
      report.problems.push(
        `Login as '${target.user}' failed (${report.login.reply}). Give a user in the URL: ftp://user:password@${target.host}:${target.port}`,
      );
      return report;
    }
    await control.command('TYPE A', t);
    if (options.pasv !== false) report.passive.push(await probePassive(control, 'PASV', report, options));
    if (options.epsv !== false) report.passive.push(await probePassive(control, 'EPSV', report, options));
    try {
      await control.command('QUIT', Math.min(t, 1000));
    } catch {
      /* the verdict does not depend on QUIT */
    }
  } catch (err) {
    report.problems.push(`The control connection failed: ${errorText(err)}`);
    return report;
  } finally {
    control.close();
  }
  report.ok = report.problems.length === 0 && report.passive.every((p) => p.ok) && report.passive.some((p) => p.ok);
  return report;
}

async function probePassive(
  control: ControlConnection,
  command: 'PASV' | 'EPSV',
  report: ProbeReport,
  options: ProbeOptions,
): Promise<PassiveProbe> {
  const t = options.timeoutMs;
  const result: PassiveProbe = { command, checks: [], ok: false };
  const controlAddress = report.controlAddress ?? report.host;
  const problem = (text: string): void => {
    report.problems.push(`${command}: ${text}`);
  };
  const reply = await control.command(command, t);
  result.reply = `${reply.code} ${reply.text}`;
  if (reply.code !== (command === 'PASV' ? 227 : 229)) {
    const refused = reply.code >= 500;
    result.checks.push({ name: command, ok: false, detail: result.reply });
    if (command === 'EPSV' && refused) {
      // The NAT guide itself suggests <Limit EPSV> DenyAll; clients then fall back to PASV.
      result.checks[result.checks.length - 1] = { name: command, ok: null, detail: `${result.reply} (refused: clients fall back to PASV)` };
      result.ok = true;
      return result;
    }
    if (command === 'PASV' && reply.code === 522) {
      result.checks[result.checks.length - 1] = { name: command, ok: null, detail: `${result.reply} (IPv6 control connection: clients use EPSV)` };
      result.ok = true;
      return result;
    }
    problem(`the server answered ${result.reply} instead of ${command === 'PASV' ? 227 : 229}${refused ? ' (passive transfers are refused)' : ''}.`);
    return result;
  }
  let host: string;
  let port: number;
  if (command === 'PASV') {
    const parsed = parsePasv(reply.text);
    if (!parsed.ok) {
      result.checks.push({ name: 'decode 227', ok: false, detail: parsed.error.message });
      problem(`the 227 reply cannot be decoded (${parsed.error.message}); clients cannot use it.`);
      return result;
    }
    host = parsed.value.host;
    port = parsed.value.port;
    result.address = host;
    result.port = port;
    const cls = classifyAddress(host);
    result.addressClass = cls;
    const controlClass = classifyAddress(controlAddress);
    const p = parsed.value.port;
    result.checks.push({ name: 'port', ok: null, detail: `${p} = ${Math.trunc(p / 256)}*256+${p % 256}` });
    if (options.expectAddress !== undefined) {
      const match = unmapAddress(options.expectAddress) === host;
      result.checks.push({ name: 'address', ok: match, detail: `${host}, ${cls.label}${match ? '' : `, expected ${options.expectAddress}`}` });
      if (!match) {
        problem(
          `the server advertises ${host} but clients must connect to ${options.expectAddress}. Set MasqueradeAddress ${options.expectAddress} (an IP address, not a name resolved inside the LAN).`,
        );
      }
    } else if (!cls.routable && controlClass.routable) {
      result.checks.push({ name: 'address', ok: false, detail: `${host}, ${cls.label}` });
      problem(
        `the server advertises ${cls.label} address ${host} although it was reached at public ${controlAddress}: it is behind NAT without a working MasqueradeAddress (or the name resolved to a LAN address at startup; use the public IP address).`,
      );
    } else {
      result.checks.push({
        name: 'address',
        ok: true,
        detail: `${host}, ${cls.label}${cls.routable ? '' : ' (fine for clients on the same network; Internet clients need MasqueradeAddress)'}`,
      });
    }
  } else {
    const parsed = parseEpsv(reply.text);
    if (!parsed.ok) {
      result.checks.push({ name: 'decode 229', ok: false, detail: parsed.error.message });
      problem(`the 229 reply cannot be decoded (${parsed.error.message}).`);
      return result;
    }
    host = controlAddress;
    port = parsed.value.port;
    result.port = port;
    result.checks.push({ name: 'port', ok: null, detail: `${parsed.value.port} (EPSV: the address is the control connection's, ${controlAddress})` });
  }
  if (options.expectPorts !== undefined && options.expectPorts.length > 0) {
    result.portInRange = inRanges(port, options.expectPorts);
    result.checks.push({
      name: 'port range',
      ok: result.portInRange,
      detail: `${port} ${result.portInRange ? 'is in' : 'is NOT in'} ${fmtRanges(options.expectPorts)}`,
    });
    if (!result.portInRange) {
      problem(
        `port ${port} is outside the expected range ${fmtRanges(options.expectPorts)}: PassivePorts is not set to that range, or the range was exhausted and the server fell back to a kernel port.`,
      );
    }
  }
  if (options.list === false) {
    result.ok = result.checks.every((c) => c.ok !== false);
    return result;
  }
  const { socket, attempt } = await connectData(host, port, t);
  result.data = attempt;
  result.checks.push({
    name: 'data connection',
    ok: attempt.ok,
    detail: `${host}:${port} ${attempt.ok ? `connected in ${attempt.ms} ms` : attempt.error ?? 'failed'}`,
  });
  let data = socket;
  if (data === undefined) {
    if (command === 'PASV' && host !== controlAddress) {
      const second = await connectData(controlAddress, port, t);
      result.fallback = second.attempt;
      result.checks.push({
        name: 'same port at the control address',
        ok: null,
        detail: `${controlAddress}:${port} ${second.attempt.ok ? 'answers' : second.attempt.error ?? 'failed'}`,
      });
      if (second.socket !== undefined) {
        problem(
          `the server told the client to connect to ${host}:${port}, which ${attempt.error ?? 'failed'}, but the same port answers at ${controlAddress}: MasqueradeAddress is wrong. Set it to the address clients reach the server at (${controlAddress}, or your router's public address).`,
        );
        data = second.socket;
      } else {
        problem(
          `nothing answered at ${host}:${port} (${attempt.error ?? 'failed'}), nor at ${controlAddress}:${port}: check that MasqueradeAddress is the router's public address and that the router forwards the PassivePorts range (port ${port}) to the server.`,
        );
      }
    } else {
      problem(
        `the server listens for the data connection on port ${port}, but ${host}:${port} ${attempt.error ?? 'failed'}: the router or firewall does not forward the passive port range${command === 'EPSV' ? ' (EPSV replies carry only the port, so the range must be forwarded 1:1)' : ''}.`,
      );
    }
    if (data === undefined) {
      // Let the server drop its listener before the next probe step.
      await control.command('ABOR', t).catch(() => undefined);
      return result;
    }
  }
  result.list = await runList(control, data, t);
  result.checks.push({
    name: 'LIST',
    ok: result.list.ok,
    detail: result.list.ok
      ? `${result.list.reply ?? ''} (${result.list.entries ?? 0} entries, ${result.list.bytes ?? 0} bytes)`
      : result.list.error ?? result.list.reply ?? 'failed',
  });
  if (!result.list.ok) problem(`LIST through the data connection failed: ${result.list.error ?? result.list.reply ?? ''}`);
  result.ok = result.checks.every((c) => c.ok !== false) && (result.fallback === undefined || result.data?.ok === true);
  return result;
}

async function runList(control: ControlConnection, data: Socket, t: number): Promise<NonNullable<PassiveProbe['list']>> {
  const body = drain(data, t);
  let first: Reply;
  try {
    first = await control.command('LIST', t);
  } catch (err) {
    data.destroy();
    return { ok: false, error: errorText(err) };
  }
  if (first.code !== 150 && first.code !== 125) {
    data.destroy();
    return { ok: false, reply: `${first.code} ${first.text}` };
  }
  const received = await body;
  let done: Reply;
  try {
    done = await control.read(t);
  } catch (err) {
    return { ok: false, error: `no reply after the listing: ${errorText(err)}` };
  }
  const reply = `${done.code} ${done.text}`;
  if ('error' in received) return { ok: false, reply, error: received.error };
  const text = new TextDecoder().decode(received.bytes);
  return {
    ok: done.code === 226 || done.code === 250,
    reply,
    bytes: received.bytes.length,
    entries: text.split(/\r?\n/).filter((l) => l.trim() !== '' && !/^total \d+/.test(l)).length,
  };
}

/** The report for a terminal. */
export function formatProbeReport(r: ProbeReport): string {
  const mark = (ok: boolean | null): string => (ok === null ? '  --' : ok ? '  ok' : 'FAIL');
  const lines = [`ftpkit probe ${r.url}`];
  const general = r.checks.map((c) => `${mark(c.ok)}  ${c.name}: ${c.detail}`);
  lines.push(...general);
  if (r.banner !== undefined) lines.splice(2, 0, `        ${r.banner}`);
  for (const p of r.passive) {
    lines.push(`${p.command}: ${p.reply ?? '(no reply)'}`);
    for (const c of p.checks) lines.push(`${mark(c.ok)}  ${c.name}: ${c.detail}`);
  }
  lines.push('');
  if (r.ok) {
    lines.push('PASS: passive transfers work from here.');
  } else {
    lines.push('FAIL:');
    for (const p of r.problems) lines.push(`  - ${p}`);
    if (r.problems.length === 0) lines.push('  - no passive command could be checked');
  }
  return `${lines.join('\n')}\n`;
}
