/**
 * Conditional configuration layers: mod_ifsession's `<IfClass>`, `<IfAuthenticated>`,
 * `<IfGroup>` and `<IfUser>`, generic over the settings type they carry.
 *
 * Theory of operation (ProFTPD contrib/mod_ifsession.c, src/parser.c, src/configdb.c):
 * - At connect, before the banner, matching `<IfClass>` sections are merged. After a
 *   successful PASS, matching `<IfAuthenticated>`, then `<IfGroup>`, then `<IfUser>`
 *   sections are merged.
 * - Within one kind, sections are processed in reverse definition order (ProFTPD keeps
 *   context sections in a head-inserted list), so the last-defined is processed first.
 * - Merging a single-valued setting first removes that setting from the whole server
 *   tree, including the sections not merged yet. So the first section processed that
 *   sets a key wins it: `<IfClass>` beats any `<IfUser>`, `<IfGroup>` beats `<IfUser>`,
 *   and the last-defined section of one kind beats the earlier ones. Any merged value
 *   beats the server's own.
 * - Accumulating settings (ProFTPD's `<Limit>` sections) are inserted at the head: the
 *   section processed last comes first, and every merged entry precedes the server's own.
 *
 * `mergeLayers` answers the effective settings of a session for one moment: pass
 * `authenticated: false` for connect time and `true` (with user and groups) after login.
 */
import { evalClassExpr, evalGroupExpr, evalUserExpr, type NameExpr } from './expr.js';

/** The kinds of conditional section, in the order mod_ifsession merges them. */
export type LayerKind = 'class' | 'authenticated' | 'group' | 'user';

/** One conditional section. `condition` is absent only for `authenticated`. */
export interface Layer<T> {
  readonly kind: LayerKind;
  readonly condition?: NameExpr | undefined;
  readonly content: T;
  /** Where it came from, for explanations: `<IfClass internal> (proftpd.conf:12)`. */
  readonly label?: string | undefined;
}

/** What the layers are evaluated against. */
export interface LayerContext {
  /** The session's class, computed once at connect (undefined: in no class). */
  readonly className?: string | undefined;
  /** True after a successful login; user and group layers apply only then. */
  readonly authenticated?: boolean | undefined;
  readonly user?: string | undefined;
  /** Primary group first, then the supplementary groups. */
  readonly groups?: readonly string[] | undefined;
}

/** Does this layer's condition hold for the session? */
export function layerMatches<T>(layer: Layer<T>, ctx: LayerContext): boolean {
  if (layer.kind === 'class') return layer.condition !== undefined && evalClassExpr(layer.condition, ctx.className);
  if (ctx.authenticated !== true) return false;
  if (layer.kind === 'authenticated') return true;
  if (layer.condition === undefined) return false;
  if (layer.kind === 'group') return evalGroupExpr(layer.condition, ctx.groups ?? []);
  return ctx.user !== undefined && evalUserExpr(layer.condition, ctx.user);
}

const KIND_ORDER: readonly LayerKind[] = ['class', 'authenticated', 'group', 'user'];

/**
 * The matching layers in mod_ifsession's processing order: by kind (class,
 * authenticated, group, user), and within a kind the last-defined first. `layers` is
 * given in definition order.
 */
export function orderLayers<T>(layers: readonly Layer<T>[], ctx: LayerContext): Layer<T>[] {
  const out: Layer<T>[] = [];
  for (const kind of KIND_ORDER) {
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i] as Layer<T>;
      if (layer.kind === kind && layerMatches(layer, ctx)) out.push(layer);
    }
  }
  return out;
}

/** Options of `mergeLayers`. */
export interface MergeOptions<S> {
  /** Keys whose values are arrays that accumulate (merged entries first) instead of being replaced. */
  readonly accumulate?: readonly (keyof S)[];
}

/** The outcome of `mergeLayers`: the merged settings and why each key has its value. */
export interface MergeResult<S> {
  readonly value: S;
  /** The layers merged, in processing order. */
  readonly applied: readonly Layer<Partial<S>>[];
  /** For each single-valued key a layer set, the layer that won it. */
  readonly setBy: Partial<Record<keyof S, Layer<Partial<S>>>>;
}

function isSet(obj: object, key: PropertyKey): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key) && (obj as Record<PropertyKey, unknown>)[key] !== undefined;
}

/**
 * Merges the matching layers over `base` with ProFTPD's precedence (see the theory of
 * operation above). `base` is not modified. Layers are given in definition order.
 */
export function mergeLayers<S extends object>(
  base: S,
  layers: readonly Layer<Partial<S>>[],
  ctx: LayerContext,
  opts: MergeOptions<S> = {},
): MergeResult<S> {
  const accumulate = new Set<keyof S>(opts.accumulate ?? []);
  const applied = orderLayers(layers, ctx);
  const value = { ...base } as Record<PropertyKey, unknown>;
  const setBy: Partial<Record<keyof S, Layer<Partial<S>>>> = {};
  const won = new Set<keyof S>();
  for (const layer of applied) {
    for (const key of Object.keys(layer.content) as (keyof S)[]) {
      if (!isSet(layer.content, key)) continue;
      const v = layer.content[key];
      if (accumulate.has(key)) {
        const prev = value[key as PropertyKey];
        value[key as PropertyKey] = [...(v as unknown[]), ...(Array.isArray(prev) ? prev : [])];
      } else if (!won.has(key)) {
        won.add(key);
        value[key as PropertyKey] = v;
        setBy[key] = layer;
      }
    }
  }
  return { value: value as S, applied, setBy };
}
