import { describe, expect, it } from 'vitest';
import {
  evalClassExpr,
  evalGroupExpr,
  evalUserExpr,
  mergeLayers,
  parseNameExpr,
  type Layer,
  type LayerContext,
  type NameExpr,
} from '../src/index.js';

function expr(text: string, defaultOp: 'or' | 'and' = 'or'): NameExpr {
  const r = parseNameExpr(text.split(' '), { defaultOp });
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('expressions (src/expr.c)', () => {
  it.each<[string, string | undefined, boolean]>([
    ['loop', 'loop', true],
    ['loop', 'two', false],
    ['loop two', 'two', true],
    ['loop,two', 'two', true],
    ['OR loop two', 'two', true],
    ['AND loop two', 'loop', false],
    ['AND loop two', undefined, false],
    ['AND !loop !two', undefined, true],
    ['AND !loop !two', 'other', true],
    ['AND !loop !two', 'two', false],
    ['!loop', undefined, true],
    ['!loop', 'loop', false],
    ['!loop', 'two', true],
    ['loop !two', undefined, false],
    ['!loop two', undefined, true],
    ['!foo AND !bar', undefined, true],
    ['!foo AND !bar', 'foo', true],
    ['regex ^lo', 'loop', true],
    ['regex ^lo', 'two', false],
    ['regex .*', undefined, false],
    ['regex [[:digit:]]$', 'net1', true],
  ])('<IfClass %s> with class %s -> %s', (text, cls, want) => {
    expect(evalClassExpr(expr(text), cls)).toBe(want);
  });

  it.each<[string, string, boolean]>([
    ['ftptest', 'ftptest', true],
    ['alice,bob', 'bob', true],
    ['!alice', 'bob', true],
    ['!alice', 'alice', false],
    ['AND !alice !bob', 'carol', true],
    ['regex ^ftp', 'ftptest', true],
    ['regex ^ftp', 'xftp', false],
  ])('<IfUser %s> for %s -> %s', (text, user, want) => {
    expect(evalUserExpr(expr(text), user)).toBe(want);
  });

  it.each<[string, string[], boolean]>([
    ['staff', ['users', 'staff'], true],
    ['staff admin', ['staff'], false],
    ['staff admin', ['admin', 'staff'], true],
    ['OR staff admin', ['staff'], true],
    ['staff !admin', ['staff'], true],
    ['staff !admin', ['staff', 'admin'], false],
    ['regex ^st', ['users', 'staff'], true],
  ])('<IfGroup %s> for %j -> %s (default AND)', (text, groups, want) => {
    expect(evalGroupExpr(expr(text, 'and'), groups)).toBe(want);
  });

  it('keywords are exact-case for mod_ifsession, any case for <Limit> directives', () => {
    expect(expr('and a b')).toMatchObject({ op: 'or', terms: [{ name: 'and' }, { name: 'a' }, { name: 'b' }] });
    const r = parseNameExpr(['and', 'a', 'b'], { defaultOp: 'or', caseInsensitiveKeywords: true });
    expect(r.ok && r.value.op).toBe('and');
  });

  it('bad expressions are errors, not exceptions', () => {
    expect(parseNameExpr([], { defaultOp: 'or' }).ok).toBe(false);
    expect(parseNameExpr(['regex'], { defaultOp: 'or' }).ok).toBe(false);
    expect(parseNameExpr(['regex', 'a', 'b'], { defaultOp: 'or' }).ok).toBe(false);
    const bad = parseNameExpr(['regex', '(unclosed'], { defaultOp: 'or' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.code).toBe('ERR_REGEX_INVALID');
    expect(parseNameExpr(['!'], { defaultOp: 'or' }).ok).toBe(false);
  });
});

interface S {
  masq: string;
  ports?: string;
  limits: string[];
}

const L = (kind: Layer<Partial<S>>['kind'], cond: string | undefined, content: Partial<S>, label?: string): Layer<Partial<S>> => ({
  kind,
  condition: cond === undefined ? undefined : expr(cond, kind === 'group' ? 'and' : 'or'),
  content,
  label,
});

function merge(layers: Layer<Partial<S>>[], ctx: LayerContext, base: S = { masq: 'server', limits: ['server'] }) {
  return mergeLayers(base, layers, ctx, { accumulate: ['limits'] });
}

const user: LayerContext = { className: 'loop', authenticated: true, user: 'ftptest', groups: ['ftpgroup'] };

describe('mergeLayers: ProFTPD precedence (reference §4.3, [RUN] §9.5 G and §9.6)', () => {
  it('G: <IfClass loop> masq .77 + PassivePorts, <IfUser ftptest> masq .99 -> .77 after login, ports from IfClass', () => {
    const layers = [L('class', 'loop', { masq: '192.0.2.77', ports: '60020-60030' }), L('user', 'ftptest', { masq: '192.0.2.99' })];
    expect(merge(layers, { className: 'loop' }).value).toMatchObject({ masq: '192.0.2.77', ports: '60020-60030' });
    expect(merge(layers, user).value).toMatchObject({ masq: '192.0.2.77', ports: '60020-60030' });
  });
  it(':2153 IfClass beats IfUser even when IfUser is defined first', () => {
    const layers = [L('user', 'ftptest', { masq: '192.0.2.99' }), L('class', 'loop', { masq: '192.0.2.77' })];
    expect(merge(layers, user).value.masq).toBe('192.0.2.77');
  });
  it(':2154 IfGroup beats IfUser', () => {
    const layers = [L('group', 'ftpgroup', { masq: '192.0.2.50' }), L('user', 'ftptest', { masq: '192.0.2.60' })];
    expect(merge(layers, user).value.masq).toBe('192.0.2.50');
    expect(merge([...layers].reverse(), user).value.masq).toBe('192.0.2.50');
  });
  it(':2155 two IfUser: the last-defined wins', () => {
    const layers = [L('user', 'ftptest', { masq: '192.0.2.61' }), L('user', 'regex ^ftp', { masq: '192.0.2.62' })];
    const r = merge(layers, user);
    expect(r.value.masq).toBe('192.0.2.62');
    expect(r.setBy.masq).toBe(layers[1]);
  });
  it(':2167 two IfClass: the last-defined wins', () => {
    const layers = [L('class', 'loop', { masq: '192.0.2.11' }), L('class', 'regex .*', { masq: '192.0.2.12' })];
    expect(merge(layers, { className: 'loop' }).value.masq).toBe('192.0.2.12');
  });
  it(':2164/:2165 AND of two positive classes never applies; OR does', () => {
    expect(merge([L('class', 'AND loop two', { masq: '192.0.2.4' })], { className: 'loop' }).value.masq).toBe('server');
    expect(merge([L('class', 'loop two', { masq: '192.0.2.5' })], { className: 'loop' }).value.masq).toBe('192.0.2.5');
  });
  it(':2166 a client in no class gets <IfClass !loop>', () => {
    expect(merge([L('class', '!loop', { masq: '192.0.2.6' })], {}).value.masq).toBe('192.0.2.6');
  });
  it('4: with no competing section IfUser overrides the server after login only', () => {
    const layers = [L('user', 'ftptest', { masq: '192.0.2.99' })];
    expect(merge(layers, { className: undefined }).value.masq).toBe('server');
    expect(merge(layers, { ...user, className: undefined }).value.masq).toBe('192.0.2.99');
  });
  it('IfAuthenticated applies after login and loses to nothing merged later', () => {
    const layers = [L('authenticated', undefined, { masq: 'auth' }), L('user', 'ftptest', { masq: 'user' })];
    expect(merge(layers, { authenticated: false }).value.masq).toBe('server');
    expect(merge(layers, user).value.masq).toBe('auth');
  });
  it('accumulating keys: merged entries first, the section processed last at the head', () => {
    const layers = [L('class', 'loop', { limits: ['class'] }), L('user', 'ftptest', { limits: ['user'] })];
    expect(merge(layers, user).value.limits).toEqual(['user', 'class', 'server']);
    expect(merge(layers, { className: 'loop' }).value.limits).toEqual(['class', 'server']);
  });
  it('does not modify the base and reports the applied layers in processing order', () => {
    const base: S = { masq: 'server', limits: ['server'] };
    const layers = [L('class', 'loop', { masq: 'a' }, 'first'), L('class', 'loop', { masq: 'b' }, 'second')];
    const r = merge(layers, { className: 'loop' }, base);
    expect(base).toEqual({ masq: 'server', limits: ['server'] });
    expect(r.applied.map((l) => l.label)).toEqual(['second', 'first']);
  });
});
