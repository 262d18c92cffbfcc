/**
 * Checked decoding of script replies. JSON.parse does the parsing; these small typed shape checkers say
 * what a reply must look like, and the TypeScript type of a decoded reply is derived from that shape, so
 * a reply can never be used as a type it was not checked against. A reply of the wrong shape throws a
 * ScriptReplyError naming the script and the field (a bug or a version skew between code and scripts,
 * never bad user input).
 */

/** A script answered something its reply shape does not allow. */
export class ScriptReplyError extends Error {
  constructor(
    readonly script: string,
    /** Path of the offending field, e.g. `results[3].sessionId`; `(reply)` for the reply itself. */
    readonly field: string,
    readonly detail: string,
  ) {
    super(`script ${script} replied with a bad ${field}: ${detail}`);
    this.name = "ScriptReplyError";
  }
}

class ShapeError extends Error {
  constructor(
    readonly path: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export interface Decoder<T> {
  (value: unknown, path: string): T;
  readonly optional?: false;
}
export interface OptionalDecoder<T> {
  (value: unknown, path: string): T | undefined;
  readonly optional: true;
}
type AnyDecoder = Decoder<unknown> | OptionalDecoder<unknown>;
export type Decoded<D> = D extends Decoder<infer T> ? T : D extends OptionalDecoder<infer T> ? T : never;
type Shape = Record<string, AnyDecoder>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type ObjectOf<S extends Shape> = Simplify<
  { [K in keyof S as S[K] extends OptionalDecoder<unknown> ? never : K]: Decoded<S[K]> } & {
    [K in keyof S as S[K] extends OptionalDecoder<unknown> ? K : never]?: Decoded<S[K]>;
  }
>;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "string" ? `the string ${JSON.stringify(v.slice(0, 40))}` : `a ${typeof v}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export const str: Decoder<string> = (v, path) => {
  if (typeof v !== "string") throw new ShapeError(path, `expected a string, got ${describe(v)}`);
  return v;
};

export const num: Decoder<number> = (v, path) => {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new ShapeError(path, `expected a finite number, got ${describe(v)}`);
  return v;
};

/** Decimal integer text (Redis replies such as counters and list entries arrive as strings). */
export const intText: Decoder<number> = (v, path) => {
  if (typeof v !== "string" || !/^-?\d{1,16}$/.test(v)) throw new ShapeError(path, `expected integer text, got ${describe(v)}`);
  return Number(v);
};

export const bool: Decoder<boolean> = (v, path) => {
  if (typeof v !== "boolean") throw new ShapeError(path, `expected a boolean, got ${describe(v)}`);
  return v;
};

export function literal<const T extends readonly string[]>(...values: T): Decoder<T[number]> {
  return (v, path) => {
    if (typeof v !== "string" || !values.includes(v)) throw new ShapeError(path, `expected one of ${values.join("|")}, got ${describe(v)}`);
    return v as T[number];
  };
}

export function optional<T>(d: Decoder<T>): OptionalDecoder<T> {
  const f = (v: unknown, path: string): T | undefined => (v === undefined ? undefined : d(v, path));
  return Object.assign(f, { optional: true as const });
}

/** An array. Redis' cjson encodes an empty Lua table as `{}`, so an empty object counts as an empty array. */
export function list<T>(item: Decoder<T>): Decoder<T[]> {
  return (v, path) => {
    if (isPlainObject(v) && Object.keys(v).length === 0) return [];
    if (!Array.isArray(v)) throw new ShapeError(path, `expected an array, got ${describe(v)}`);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  };
}

/** An object with these fields (others are ignored); absent optional fields stay absent. */
export function obj<S extends Shape>(shape: S): Decoder<ObjectOf<S>> {
  const entries = Object.entries(shape);
  return (v, path) => {
    if (!isPlainObject(v)) throw new ShapeError(path, `expected an object, got ${describe(v)}`);
    const out: Record<string, unknown> = {};
    for (const [key, d] of entries) {
      const value = Object.hasOwn(v, key) ? v[key] : undefined;
      const decoded = d(value, path ? `${path}.${key}` : key);
      if (decoded !== undefined) out[key] = decoded;
    }
    return out as ObjectOf<S>;
  };
}

/** An object used as a map (own properties only), every value of one shape. */
export function dict<T>(value: Decoder<T>): Decoder<Record<string, T>> {
  return (v, path) => {
    if (!isPlainObject(v)) throw new ShapeError(path, `expected an object, got ${describe(v)}`);
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = value(x, `${path}.${k}`);
    return out;
  };
}

/** A union told apart by the string field `tag` (e.g. `outcome`). */
export function tagged<const K extends string, M extends Record<string, Decoder<unknown>>>(
  tag: K,
  variants: M,
): Decoder<{ [V in keyof M]: Decoded<M[V]> & Record<K, V> }[keyof M]> {
  return (v, path) => {
    const t = isPlainObject(v) ? v[tag] : undefined;
    const d = typeof t === "string" && Object.hasOwn(variants, t) ? variants[t] : undefined;
    if (!d) throw new ShapeError(path ? `${path}.${tag}` : tag, `expected one of ${Object.keys(variants).join("|")}, got ${describe(t)}`);
    return { ...(d(v, path) as object), [tag]: t } as never;
  };
}

/** Parses and checks one script reply. */
export function decodeReply<T>(script: string, decoder: Decoder<T>, raw: unknown): T {
  if (typeof raw !== "string") throw new ScriptReplyError(script, "(reply)", `expected JSON text, got ${describe(raw)}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new ScriptReplyError(script, "(reply)", `not JSON: ${(err as Error).message}`);
  }
  try {
    return decoder(parsed, "");
  } catch (err) {
    if (err instanceof ShapeError) throw new ScriptReplyError(script, err.path || "(reply)", err.detail);
    throw err;
  }
}
