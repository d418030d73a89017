import { describe, expect, it } from 'vitest';
import { DATA_CHANNEL_MACHINE, DURING_TRANSFER, LOGIN_MACHINE, LOGIN_REFUSALS, TRANSFER_PHASES, loginTransition } from '../src/index.js';
import type { LoginState } from '../src/index.js';

describe('state tables', () => {
  const states = Object.keys(LOGIN_MACHINE) as LoginState[];
  it('login transitions only lead to known states; closed is final', () => {
    for (const s of states) for (const next of Object.values(LOGIN_MACHINE[s])) expect(states).toContain(next);
    expect(LOGIN_MACHINE.closed).toEqual({});
    expect(loginTransition('awaitUser', 'PASS_OK')).toBeUndefined();
    expect(loginTransition('awaitPass', 'PASS_OK')).toBe('loggedIn');
    expect(loginTransition('awaitPass', 'PASS_BAD')).toBe('awaitUser');
  });
  it('every live state can be left by QUIT, a timeout or the peer closing; REIN returns to awaitUser', () => {
    for (const s of states.filter((x) => x !== 'closed')) {
      expect(LOGIN_MACHINE[s].QUIT).toBe('closed');
      expect(LOGIN_MACHINE[s].TIMEOUT).toBe('closed');
      expect(LOGIN_MACHINE[s].PEER_CLOSED).toBe('closed');
      expect(LOGIN_MACHINE[s].REIN).toBe('awaitUser');
    }
  });
  it('a refusal exists exactly where USER/PASS have no transition', () => {
    for (const s of states.filter((x) => x !== 'closed')) {
      expect(LOGIN_REFUSALS[s].USER !== undefined).toBe(LOGIN_MACHINE[s].USER === undefined);
      const passAccepted = LOGIN_MACHINE[s].PASS_OK !== undefined;
      expect(LOGIN_REFUSALS[s].PASS !== undefined).toBe(!passAccepted);
    }
  });
  it('data channel and transfer tables', () => {
    expect(DATA_CHANNEL_MACHINE.PASV).toBe('passive');
    expect(DATA_CHANNEL_MACHINE.EPRT).toBe('active');
    expect(DATA_CHANNEL_MACHINE.TRANSFER).toBe('none');
    expect(TRANSFER_PHASES).toEqual(['opening', 'connecting', 'flowing', 'done']);
    expect(Object.keys(DURING_TRANSFER).sort()).toEqual(['ABOR', 'NOOP', 'QUIT', 'STAT']);
  });
});
