/**
 * @packageDocumentation
 * FTP command framing and parsing, sans-IO: a streaming decoder for the control
 * connection (lines split across chunks, CRLF or bare LF, Telnet IAC handling with
 * IP/DM before ABOR and every option refused, a maximum line length that yields a 500
 * and resynchronises), `parseCommand`, typed argument parsers (PORT, EPRT, EPSV, TYPE,
 * MODE, STRU, REST, OPTS, MLST facts, HOST, time-vals) that return `{ ok: false, error }`
 * with the reply to send, and a command catalogue (login needed? argument? FEAT line?
 * `<Limit>` group? HELP text?). UTF-8 per RFC 2640: invalid bytes are refused with 501
 * or kept losslessly as Latin-1, never replaced. No IO, no Node APIs.
 *
 * @example
 * ```ts
 * import { CommandDecoder, lookupCommand, parseCommand, parseEprtArg } from '@ftpkit/command';
 *
 * const decoder = new CommandDecoder({ maxLineLength: 4096 });
 * for (const ev of decoder.push(new TextEncoder().encode('EPRT |2|::1|6446|\r\n'))) {
 *   if (ev.kind !== 'line') continue; // 'error' → reply; 'telnet' → write ev.response back
 *   const { verb, arg } = parseCommand(ev.line);  // { verb: 'EPRT', arg: '|2|::1|6446|' }
 *   const spec = lookupCommand(verb);             // needsLogin, arg rule, FEAT line, group
 *   const r = parseEprtArg(arg);                  // { ok: true, value: { family: 2, host: '::1', port: 6446 } }
 *   if (!r.ok) console.log(`${r.error.replyCode} ${r.error.message}`);
 * }
 * ```
 */
export { CommandCodecError } from './errors.js';
export type { CommandCodecErrorCode, CommandProblem, Result } from './errors.js';
export { CommandDecoder, TRANSITIONS } from './decoder.js';
export type { CommandDecoderOptions, CommandEvent } from './decoder.js';
export { asciiUpper, encodeCommand, parseCommand } from './parse.js';
export type { ParsedCommand } from './parse.js';
export {
  formatMlstFeat,
  parseAlloArg,
  formatMlstOptsReply,
  formatTimeVal,
  parseEprtArg,
  parseEpsvArg,
  parseHostArg,
  parseMfmtArg,
  parseMlstOptions,
  parseModeArg,
  parseOptsArg,
  parsePortArg,
  parseRestArg,
  parseStruArg,
  parseTimeVal,
  parseTypeArg,
  parseUtf8Option,
  selectMlstFacts,
} from './args.js';
export type { AddressFamily, EpsvRequest, FamilyOptions, HostRequest } from './args.js';
export { COMMANDS, SITE_COMMANDS, featLines, lookupCommand } from './catalogue.js';
export type { ArgumentRule, CommandGroup, CommandSpec, SiteCommandSpec } from './catalogue.js';
