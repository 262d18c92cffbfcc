/**
 * A small, offline model of ARM template expressions: a parser for the `[...]` expression language and an
 * evaluator that resolves a template with concrete parameter values, so tests can check that every
 * parameters()/variables()/resourceId()/reference()/dependsOn target exists, what each app setting
 * evaluates to, and which resources the template declares (copy loops expanded).
 *
 * It implements the template functions our templates use (and a few neighbours); anything else is an
 * error, so a typo in a function name fails the test instead of failing the deployment.
 */
import { createHash, randomUUID } from "node:crypto";

// ---------------------------------------------------------------------------------------------------------
// Parser

export type Ast =
  | { kind: "str"; value: string }
  | { kind: "num"; value: number }
  | { kind: "call"; name: string; args: Ast[] }
  | { kind: "prop"; target: Ast; name: string }
  | { kind: "index"; target: Ast; index: Ast };

type Tok = { t: "id" | "str" | "num" | "p"; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let s = "";
      i++;
      for (;;) {
        if (i >= src.length) throw new Error(`unterminated string literal in [${src}]`);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += src[i++];
      }
      out.push({ t: "str", v: s });
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(src.slice(i));
      if (!m) throw new Error(`bad number at ${i} in [${src}]`);
      out.push({ t: "num", v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ t: "id", v: m[0] });
      i += m[0].length;
    } else if ("(),.[]".includes(c)) {
      out.push({ t: "p", v: c });
      i++;
    } else {
      throw new Error(`unexpected character ${JSON.stringify(c)} in [${src}]`);
    }
  }
  return out;
}

/** Parses the inside of an ARM expression (without the surrounding brackets). */
export function parseExpression(src: string): Ast {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const expect = (v: string) => {
    const tok = toks[p++];
    if (!tok || tok.t !== "p" || tok.v !== v) throw new Error(`expected "${v}" in [${src}], got ${tok ? tok.v : "end"}`);
  };
  const primary = (): Ast => {
    const tok = toks[p++];
    if (!tok) throw new Error(`unexpected end of [${src}]`);
    if (tok.t === "str") return { kind: "str", value: tok.v };
    if (tok.t === "num") return { kind: "num", value: Number(tok.v) };
    if (tok.t === "id") {
      expect("(");
      const args: Ast[] = [];
      if (!(peek()?.t === "p" && peek()?.v === ")")) {
        for (;;) {
          args.push(expr());
          const n = toks[p];
          if (n?.t === "p" && n.v === ",") {
            p++;
            continue;
          }
          break;
        }
      }
      expect(")");
      return { kind: "call", name: tok.v, args };
    }
    throw new Error(`unexpected "${tok.v}" in [${src}]`);
  };
  const expr = (): Ast => {
    let node = primary();
    for (;;) {
      const n = peek();
      if (n?.t === "p" && n.v === ".") {
        p++;
        const id = toks[p++];
        if (!id || id.t !== "id") throw new Error(`expected a property name after "." in [${src}]`);
        node = { kind: "prop", target: node, name: id.v };
      } else if (n?.t === "p" && n.v === "[") {
        p++;
        const index = expr();
        expect("]");
        node = { kind: "index", target: node, index };
      } else {
        return node;
      }
    }
  };
  const ast = expr();
  if (p !== toks.length) throw new Error(`trailing tokens in [${src}]`);
  return ast;
}

/** The expression inside a template string, or undefined for a literal ("[[" escapes a literal "["). */
export function expressionOf(s: string): string | undefined {
  if (s.startsWith("[[")) return undefined;
  if (s.startsWith("[") && s.endsWith("]")) return s.slice(1, -1);
  return undefined;
}

export function walkAst(ast: Ast, visit: (n: Ast) => void): void {
  visit(ast);
  if (ast.kind === "call") ast.args.forEach((a) => walkAst(a, visit));
  else if (ast.kind === "prop") walkAst(ast.target, visit);
  else if (ast.kind === "index") {
    walkAst(ast.target, visit);
    walkAst(ast.index, visit);
  }
}

/** Every expression string in a JSON value, with its JSON path. `skip` prunes subtrees (e.g. inner nested templates). */
export function collectExpressions(value: unknown, path = "$", skip?: (path: string, v: unknown) => boolean): { path: string; src: string; ast: Ast }[] {
  const out: { path: string; src: string; ast: Ast }[] = [];
  const visit = (v: unknown, at: string) => {
    if (skip?.(at, v)) return;
    if (typeof v === "string") {
      const src = expressionOf(v);
      if (src !== undefined) {
        try {
          out.push({ path: at, src, ast: parseExpression(src) });
        } catch (err) {
          throw new Error(`${at}: ${(err as Error).message}`, { cause: err });
        }
      }
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => visit(x, `${at}[${i}]`));
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        // Property names can be expressions too (rare); check them as well.
        const ksrc = expressionOf(k);
        if (ksrc !== undefined) out.push({ path: `${at}.{key}`, src: ksrc, ast: parseExpression(ksrc) });
        visit(x, `${at}.${k}`);
      }
    }
  };
  visit(value, path);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Evaluator

/** The runtime value of reference(...): opaque, but remembers what it points to and which property was read. */
export class RefValue {
  constructor(
    readonly target: string,
    readonly path: string[] = [],
  ) {}
  get(name: string): RefValue {
    return new RefValue(this.target, [...this.path, name]);
  }
  toString(): string {
    return `<reference:${this.target.split("/").slice(-1)[0]}${this.path.map((p) => `.${p}`).join("")}>`;
  }
}

export interface Template {
  $schema?: string;
  contentVersion?: string;
  parameters?: Record<
    string,
    { type: string; defaultValue?: unknown; allowedValues?: unknown[]; minValue?: number; maxValue?: number; minLength?: number; maxLength?: number }
  >;
  variables?: Record<string, unknown>;
  resources: TemplateResource[];
  outputs?: Record<string, { type: string; value?: unknown; copy?: { count: unknown; input: unknown } }>;
  functions?: unknown;
}

export interface TemplateResource {
  type: string;
  apiVersion: string;
  name: string;
  condition?: unknown;
  scope?: string;
  location?: string;
  dependsOn?: string[];
  copy?: { name: string; count: unknown; mode?: string; batchSize?: number };
  properties?: Record<string, unknown>;
  [key: string]: unknown;
}

export const FAKE_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000";
export const FAKE_RESOURCE_GROUP = "rg-matchmaker";
export const FAKE_RG_LOCATION = "westeurope";

export interface DeclaredResource {
  resource: TemplateResource;
  /** Index in template.resources. */
  index: number;
  /** Copy index, when declared in a copy loop. */
  copyIndex?: number;
  type: string;
  name: string;
  id: string;
}

export interface EvalLog {
  referenceTargets: { at: string; target: string }[];
  resourceIds: { at: string; id: string }[];
  functions: Set<string>;
}

const rgPrefix = `/subscriptions/${FAKE_SUBSCRIPTION}/resourceGroups/${FAKE_RESOURCE_GROUP}`;

function buildId(prefix: string, type: string, names: string[]): string {
  const [ns, ...types] = type.split("/");
  if (types.length !== names.length) throw new Error(`resource id for ${type} needs ${types.length} name segment(s), got ${names.length}: ${names.join("/")}`);
  return `${prefix}/providers/${ns}/${types.map((t, i) => `${t}/${names[i]}`).join("/")}`;
}

function armString(v: unknown): string {
  if (typeof v === "string") return v;
  if (v instanceof RefValue) return v.toString();
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  return JSON.stringify(v, (_k, x) => (x instanceof RefValue ? x.toString() : x));
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === "string" || Array.isArray(v)) return v.length === 0;
  if (typeof v === "object" && !(v instanceof RefValue)) return Object.keys(v as object).length === 0;
  return false;
}

function hash(parts: unknown[]): string {
  return createHash("sha256").update(parts.map(armString).join("|").toLowerCase()).digest("hex");
}

export type Phase = "parameters" | "variables" | "resources" | "outputs";

export class Evaluator {
  readonly log: EvalLog = { referenceTargets: [], resourceIds: [], functions: new Set() };
  private readonly varCache = new Map<string, unknown>();
  private readonly varStack: string[] = [];
  readonly params: Record<string, unknown> = {};
  copyContext = new Map<string, number>();
  phase: Phase = "parameters";
  at = "$";

  constructor(
    readonly template: Template,
    paramValues: Record<string, unknown> = {},
  ) {
    // Parameter defaults may reference earlier parameters; resolve in declaration order, as ARM does.
    for (const [name, decl] of Object.entries(template.parameters ?? {})) {
      if (name in paramValues) this.params[name] = paramValues[name];
      else if ("defaultValue" in decl) {
        this.at = `$.parameters.${name}.defaultValue`;
        this.params[name] = this.evalValue(decl.defaultValue);
      } else throw new Error(`parameter ${name} has no default and no value was given`);
    }
    for (const name of Object.keys(paramValues)) {
      if (!(name in (template.parameters ?? {}))) throw new Error(`value given for undeclared parameter ${name}`);
    }
  }

  /** Evaluates a JSON value: strings that are expressions are evaluated, containers recursively. */
  evalValue(v: unknown): unknown {
    if (typeof v === "string") {
      const src = expressionOf(v);
      if (src === undefined) return v.startsWith("[[") ? v.slice(1) : v;
      return this.evalAst(parseExpression(src));
    }
    if (Array.isArray(v)) return v.map((x) => this.evalValue(x));
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === "copy" && Array.isArray(x)) {
          // Property copy loops: {copy: [{name, count, input}]} expands into arrays named `name`.
          for (const loop of x as { name: string; count: unknown; input: unknown }[]) {
            const count = Number(this.evalValue(loop.count));
            const items: unknown[] = [];
            for (let i = 0; i < count; i++) {
              this.copyContext.set(loop.name, i);
              items.push(this.evalValue(loop.input));
            }
            this.copyContext.delete(loop.name);
            out[loop.name] = items;
          }
          continue;
        }
        out[k] = this.evalValue(x);
      }
      return out;
    }
    return v;
  }

  variable(name: string): unknown {
    const vars = this.template.variables ?? {};
    if (!(name in vars)) throw new Error(`${this.at}: variables('${name}') is not declared`);
    if (this.varCache.has(name)) return this.varCache.get(name);
    if (this.varStack.includes(name)) throw new Error(`variable cycle: ${[...this.varStack, name].join(" -> ")}`);
    this.varStack.push(name);
    const saved = { phase: this.phase, at: this.at };
    this.phase = "variables";
    this.at = `$.variables.${name}`;
    try {
      const value = this.evalValue(vars[name]);
      this.varCache.set(name, value);
      return value;
    } finally {
      this.varStack.pop();
      this.phase = saved.phase;
      this.at = saved.at;
    }
  }

  evalAst(ast: Ast): unknown {
    switch (ast.kind) {
      case "str":
        return ast.value;
      case "num":
        return ast.value;
      case "prop": {
        const target = this.evalAst(ast.target);
        if (target instanceof RefValue) return target.get(ast.name);
        if (target && typeof target === "object") {
          const entry = Object.entries(target).find(([k]) => k.toLowerCase() === ast.name.toLowerCase());
          if (!entry) throw new Error(`${this.at}: property ${ast.name} does not exist on ${armString(target).slice(0, 80)}`);
          return entry[1];
        }
        throw new Error(`${this.at}: cannot read .${ast.name} of ${armString(target)}`);
      }
      case "index": {
        const target = this.evalAst(ast.target);
        const index = this.evalAst(ast.index);
        if (target instanceof RefValue) return target.get(String(index));
        if (Array.isArray(target)) {
          if (typeof index !== "number" || index < 0 || index >= target.length) throw new Error(`${this.at}: index ${String(index)} out of range`);
          return target[index];
        }
        if (target && typeof target === "object") return (target as Record<string, unknown>)[String(index)];
        throw new Error(`${this.at}: cannot index ${armString(target)}`);
      }
      case "call":
        return this.call(ast.name.toLowerCase(), ast.args);
    }
  }

  private call(name: string, argAsts: Ast[]): unknown {
    this.log.functions.add(name);
    // Lazy functions first: ARM evaluates only the branch of if() that is taken.
    if (name === "if") {
      if (argAsts.length !== 3) throw new Error(`${this.at}: if() takes 3 arguments`);
      const cond = this.evalAst(argAsts[0]!);
      if (typeof cond !== "boolean") throw new Error(`${this.at}: if() condition is not a boolean: ${armString(cond)}`);
      return this.evalAst(cond ? argAsts[1]! : argAsts[2]!);
    }
    const a = argAsts.map((x) => this.evalAst(x));
    const str = (i: number): string => {
      const v = a[i];
      if (typeof v === "string") return v;
      if (v instanceof RefValue) return v.toString();
      throw new Error(`${this.at}: ${name}() argument ${i + 1} must be a string, got ${armString(v)}`);
    };
    const num = (i: number): number => {
      const v = a[i];
      if (typeof v !== "number") throw new Error(`${this.at}: ${name}() argument ${i + 1} must be an int, got ${armString(v)}`);
      return v;
    };
    switch (name) {
      case "parameters": {
        const p = str(0);
        if (!(p in this.params)) {
          if (p in (this.template.parameters ?? {}))
            throw new Error(`${this.at}: parameters('${p}') used before it is resolved (parameter defaults may only use earlier parameters)`);
          throw new Error(`${this.at}: parameters('${p}') is not declared`);
        }
        return this.params[p];
      }
      case "variables":
        return this.variable(str(0));
      case "resourcegroup":
        return { id: rgPrefix, name: FAKE_RESOURCE_GROUP, location: FAKE_RG_LOCATION, type: "Microsoft.Resources/resourceGroups", properties: {} };
      case "subscription":
        return { id: `/subscriptions/${FAKE_SUBSCRIPTION}`, subscriptionId: FAKE_SUBSCRIPTION, tenantId: FAKE_SUBSCRIPTION, displayName: "test" };
      case "deployment":
        return { name: "test-deployment", properties: { templateLink: undefined } };
      case "environment":
        return { name: "AzureCloud", suffixes: { storage: "core.windows.net", keyvaultDns: ".vault.azure.net" } };
      case "concat":
        if (a.every((x) => Array.isArray(x))) return ([] as unknown[]).concat(...(a as unknown[][]));
        return a.map(armString).join("");
      case "format":
        return str(0).replace(/\{(\d+)(:[^}]*)?\}/g, (_m, i: string) => {
          const v = a[Number(i) + 1];
          if (v === undefined) throw new Error(`${this.at}: format() has no argument {${i}}`);
          return armString(v);
        });
      case "string":
        return armString(a[0]);
      case "tolower":
        return str(0).toLowerCase();
      case "toupper":
        return str(0).toUpperCase();
      case "trim":
        return str(0).trim();
      case "replace":
        return str(0).split(str(1)).join(str(2));
      case "substring":
        return str(0).substring(num(1), a.length > 2 ? num(1) + num(2) : undefined);
      case "take":
        return Array.isArray(a[0]) ? a[0].slice(0, num(1)) : str(0).slice(0, num(1));
      case "skip":
        return Array.isArray(a[0]) ? a[0].slice(num(1)) : str(0).slice(num(1));
      case "split":
        return str(0).split(str(1));
      case "startswith":
        return str(0).toLowerCase().startsWith(str(1).toLowerCase());
      case "endswith":
        return str(0).toLowerCase().endsWith(str(1).toLowerCase());
      case "contains":
        if (Array.isArray(a[0])) return a[0].includes(a[1]);
        if (a[0] && typeof a[0] === "object") return str(1) in (a[0] as object);
        return str(0).includes(str(1));
      case "uniquestring":
        // 13 characters of [a-z0-9], deterministic in its inputs, like the real one.
        return BigInt(`0x${hash(a).slice(0, 16)}`)
          .toString(36)
          .padStart(13, "0")
          .slice(0, 13);
      case "guid": {
        const h = hash(a);
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
      }
      case "newguid":
        if (this.phase !== "parameters") throw new Error(`${this.at}: newGuid() is only allowed in a parameter's defaultValue`);
        return randomUUID();
      case "utcnow":
        if (this.phase !== "parameters") throw new Error(`${this.at}: utcNow() is only allowed in a parameter's defaultValue`);
        return new Date().toISOString();
      case "createarray":
        return a;
      case "createobject": {
        const o: Record<string, unknown> = {};
        for (let i = 0; i < a.length; i += 2) o[str(i)] = a[i + 1];
        return o;
      }
      case "json":
        return JSON.parse(str(0));
      case "items":
        return Object.keys(a[0] as object)
          .sort((x, y) => x.toLowerCase().localeCompare(y.toLowerCase()))
          .map((key) => ({ key, value: (a[0] as Record<string, unknown>)[key] }));
      case "union":
        if (a.every(Array.isArray)) return [...new Set(([] as unknown[]).concat(...(a as unknown[][])))];
        return Object.assign({}, ...(a as object[]));
      case "empty":
        return isEmpty(a[0]);
      case "first":
        return Array.isArray(a[0]) ? a[0][0] : str(0).slice(0, 1);
      case "last":
        return Array.isArray(a[0]) ? a[0][a[0].length - 1] : str(0).slice(-1);
      case "length":
        if (Array.isArray(a[0]) || typeof a[0] === "string") return a[0].length;
        return Object.keys(a[0] as object).length;
      case "range":
        return Array.from({ length: num(1) }, (_x, i) => num(0) + i);
      case "equals":
        return JSON.stringify(a[0]) === JSON.stringify(a[1]);
      case "greater":
        return (a[0] as number) > (a[1] as number);
      case "greaterorequals":
        return (a[0] as number) >= (a[1] as number);
      case "less":
        return (a[0] as number) < (a[1] as number);
      case "lessorequals":
        return (a[0] as number) <= (a[1] as number);
      case "not":
        return !a[0];
      case "and":
        return a.every(Boolean);
      case "or":
        return a.some(Boolean);
      case "bool":
        return a[0] === true || a[0] === "true" || a[0] === "True";
      case "int":
        return Number.parseInt(armString(a[0]), 10);
      case "add":
        return num(0) + num(1);
      case "sub":
        return num(0) - num(1);
      case "mul":
        return num(0) * num(1);
      case "div":
        return Math.trunc(num(0) / num(1));
      case "mod":
        return num(0) % num(1);
      case "min":
        return Math.min(...(Array.isArray(a[0]) ? (a[0] as number[]) : (a as number[])));
      case "max":
        return Math.max(...(Array.isArray(a[0]) ? (a[0] as number[]) : (a as number[])));
      case "coalesce":
        return a.find((x) => x !== null && x !== undefined) ?? null;
      case "null":
        return null;
      case "true":
        return true;
      case "false":
        return false;
      case "copyindex": {
        let loop: string | undefined;
        let offset = 0;
        if (typeof a[0] === "string") {
          loop = a[0];
          if (typeof a[1] === "number") offset = a[1];
        } else if (typeof a[0] === "number") offset = a[0];
        const key = loop ?? "";
        if (!this.copyContext.has(key)) throw new Error(`${this.at}: copyIndex(${loop ? `'${loop}'` : ""}) used outside its copy loop`);
        return this.copyContext.get(key)! + offset;
      }
      case "resourceid": {
        const typeAt = a.findIndex((x) => typeof x === "string" && /^[A-Za-z]+\.[A-Za-z.]+\/[A-Za-z]/.test(x));
        if (typeAt < 0) throw new Error(`${this.at}: resourceId() without a resource type`);
        const sub = typeAt >= 2 ? str(0) : FAKE_SUBSCRIPTION;
        const rg = typeAt >= 2 ? str(1) : typeAt === 1 ? str(0) : FAKE_RESOURCE_GROUP;
        const id = buildId(
          `/subscriptions/${sub}/resourceGroups/${rg}`,
          str(typeAt),
          a.slice(typeAt + 1).map((x) => armString(x)),
        );
        this.log.resourceIds.push({ at: this.at, id });
        return id;
      }
      case "subscriptionresourceid": {
        const typeAt = a.findIndex((x) => typeof x === "string" && /^[A-Za-z]+\.[A-Za-z.]+\/[A-Za-z]/.test(x));
        const sub = typeAt >= 1 ? str(0) : FAKE_SUBSCRIPTION;
        return buildId(
          `/subscriptions/${sub}`,
          str(typeAt),
          a.slice(typeAt + 1).map((x) => armString(x)),
        );
      }
      case "extensionresourceid": {
        const id = buildId(
          str(0),
          str(1),
          a.slice(2).map((x) => armString(x)),
        );
        this.log.resourceIds.push({ at: this.at, id });
        return id;
      }
      case "reference": {
        if (this.phase === "variables" || this.phase === "parameters") throw new Error(`${this.at}: reference() cannot be used in ${this.phase}`);
        const target = str(0);
        this.log.referenceTargets.push({ at: this.at, target });
        return new RefValue(target);
      }
      default:
        if (name.startsWith("list")) throw new Error(`${this.at}: ${name}() reads secrets; the templates must not use list* functions`);
        throw new Error(`${this.at}: unknown template function ${name}()`);
    }
  }

  /** Every resource the template declares, copy loops expanded, with its full resource id. */
  declaredResources(): DeclaredResource[] {
    const out: DeclaredResource[] = [];
    this.template.resources.forEach((resource, index) => {
      const declare = (copyIndex?: number) => {
        this.phase = "resources";
        this.at = `$.resources[${index}].name`;
        const name = armString(this.evalValue(resource.name));
        let prefix = rgPrefix;
        if (resource.scope) {
          this.at = `$.resources[${index}].scope`;
          const scope = armString(this.evalValue(resource.scope));
          prefix = scope.startsWith("/") ? scope : `${rgPrefix}/providers/${scope}`;
        }
        const id = buildId(prefix, resource.type, name.split("/"));
        out.push({ resource, index, copyIndex, type: resource.type, name, id });
      };
      if (resource.copy) {
        this.phase = "resources";
        this.at = `$.resources[${index}].copy.count`;
        const count = Number(this.evalValue(resource.copy.count));
        for (let i = 0; i < count; i++) {
          this.copyContext.set("", i);
          this.copyContext.set(resource.copy.name, i);
          declare(i);
        }
        this.copyContext.delete("");
        this.copyContext.delete(resource.copy.name);
      } else declare();
    });
    return out;
  }

  /** Evaluates one declared resource (its copy index set), returning the evaluated resource body. */
  evaluateResource(d: DeclaredResource): Record<string, unknown> {
    this.phase = "resources";
    if (d.copyIndex !== undefined && d.resource.copy) {
      this.copyContext.set("", d.copyIndex);
      this.copyContext.set(d.resource.copy.name, d.copyIndex);
    }
    try {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(d.resource)) {
        if (k === "copy") continue;
        // An inner-scoped nested template is evaluated in its own deployment, not here.
        if (k === "properties" && isInnerNestedDeployment(d.resource)) {
          const { template, ...rest } = v as Record<string, unknown>;
          this.at = `$.resources[${d.index}].properties`;
          out[k] = { ...(this.evalValue(rest) as object), template };
          continue;
        }
        this.at = `$.resources[${d.index}].${k}`;
        out[k] = this.evalValue(v);
      }
      return out;
    } finally {
      this.copyContext.delete("");
      if (d.resource.copy) this.copyContext.delete(d.resource.copy.name);
    }
  }

  evaluateOutputs(): Record<string, unknown> {
    this.phase = "outputs";
    const out: Record<string, unknown> = {};
    for (const [name, o] of Object.entries(this.template.outputs ?? {})) {
      this.at = `$.outputs.${name}`;
      if (o.copy) {
        const count = Number(this.evalValue(o.copy.count));
        const items: unknown[] = [];
        for (let i = 0; i < count; i++) {
          this.copyContext.set("", i);
          items.push(this.evalValue(o.copy.input));
        }
        this.copyContext.delete("");
        out[name] = items;
      } else out[name] = this.evalValue(o.value);
    }
    return out;
  }
}

export function isInnerNestedDeployment(r: TemplateResource): boolean {
  const props = r.properties as { expressionEvaluationOptions?: { scope?: string }; template?: unknown } | undefined;
  return r.type === "Microsoft.Resources/deployments" && !!props?.template && props.expressionEvaluationOptions?.scope?.toLowerCase() === "inner";
}

/** Prunes inner-scoped nested templates from an expression walk: they have their own parameters and variables. */
export function skipInnerTemplates(template: Template): (path: string, v: unknown) => boolean {
  const inner = new Set(template.resources.map((r, i) => (isInnerNestedDeployment(r) ? `$.resources[${i}].properties.template` : "")).filter(Boolean));
  return (path) => inner.has(path);
}

// ---------------------------------------------------------------------------------------------------------
// Whole-template checks

export interface TemplateCheck {
  problems: string[];
  evaluator: Evaluator;
  resources: DeclaredResource[];
  evaluated: Map<DeclaredResource, Record<string, unknown>>;
  outputs: Record<string, unknown>;
}

/** Built-in role definitions: subscription-level resources that templates reference but never declare (not a dangling id). */
const ROLE_DEFINITION_PREFIX = `/subscriptions/${FAKE_SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/`;

/**
 * Resolves a template with the given parameter values and reports every dangling or unused name:
 * undeclared/unused parameters and variables, resourceId()/reference()/dependsOn targets that the template
 * does not declare, child resource names that do not fit their type, unknown functions.
 */
export function checkTemplate(template: Template, paramValues: Record<string, unknown> = {}): TemplateCheck {
  const problems: string[] = [];
  if (!/deploymentTemplate\.json#$/.test(template.$schema ?? "")) problems.push(`$schema is not a deployment template schema: ${template.$schema}`);
  if (!template.contentVersion) problems.push("contentVersion is missing");

  // Static walk: names used anywhere (both branches of if(), unevaluated conditions included).
  const exprs = collectExpressions(template, "$", skipInnerTemplates(template));
  const usedParams = new Set<string>();
  const usedVars = new Set<string>();
  for (const e of exprs) {
    walkAst(e.ast, (n) => {
      if (n.kind !== "call") return;
      const fn = n.name.toLowerCase();
      const arg = n.args[0];
      if ((fn === "parameters" || fn === "variables") && arg?.kind !== "str") problems.push(`${e.path}: ${n.name}() with a computed name`);
      if (fn === "parameters" && arg?.kind === "str") usedParams.add(arg.value);
      if (fn === "variables" && arg?.kind === "str") usedVars.add(arg.value);
    });
  }
  for (const p of usedParams) if (!(p in (template.parameters ?? {}))) problems.push(`parameters('${p}') is used but not declared`);
  for (const v of usedVars) if (!(v in (template.variables ?? {}))) problems.push(`variables('${v}') is used but not declared`);
  for (const p of Object.keys(template.parameters ?? {})) if (!usedParams.has(p)) problems.push(`parameter ${p} is declared but never used`);
  for (const v of Object.keys(template.variables ?? {})) if (!usedVars.has(v)) problems.push(`variable ${v} is declared but never used`);

  let evaluator: Evaluator;
  try {
    evaluator = new Evaluator(template, paramValues);
  } catch (err) {
    problems.push((err as Error).message);
    return { problems, evaluator: undefined as unknown as Evaluator, resources: [], evaluated: new Map(), outputs: {} };
  }
  // Evaluate every variable once (also catches cycles and bad functions in unused branches of evaluation).
  for (const v of Object.keys(template.variables ?? {})) {
    try {
      evaluator.variable(v);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  for (const [name, decl] of Object.entries(template.parameters ?? {})) {
    const value = evaluator.params[name];
    if (decl.allowedValues && !decl.allowedValues.some((x) => JSON.stringify(x) === JSON.stringify(value)))
      problems.push(`parameter ${name}: ${JSON.stringify(value)} is not one of its allowedValues`);
    if (typeof value === "number" && ((decl.minValue !== undefined && value < decl.minValue) || (decl.maxValue !== undefined && value > decl.maxValue)))
      problems.push(`parameter ${name}: ${value} is outside minValue/maxValue`);
    if (
      (typeof value === "string" || Array.isArray(value)) &&
      ((decl.minLength !== undefined && value.length < decl.minLength) || (decl.maxLength !== undefined && value.length > decl.maxLength))
    )
      problems.push(`parameter ${name}: length ${value.length} is outside minLength/maxLength`);
    const t = decl.type.toLowerCase();
    const ok =
      ((t === "string" || t === "securestring") && typeof value === "string") ||
      (t === "int" && Number.isInteger(value)) ||
      (t === "bool" && typeof value === "boolean") ||
      (t === "array" && Array.isArray(value)) ||
      ((t === "object" || t === "secureobject") && !!value && typeof value === "object" && !Array.isArray(value));
    if (!ok) problems.push(`parameter ${name}: value ${JSON.stringify(value)} does not have type ${decl.type}`);
  }

  let resources: DeclaredResource[] = [];
  try {
    resources = evaluator.declaredResources();
  } catch (err) {
    problems.push((err as Error).message);
  }
  const ids = new Set(resources.map((r) => r.id.toLowerCase()));
  const copyNames = new Set(template.resources.map((r) => r.copy?.name?.toLowerCase()).filter(Boolean) as string[]);
  const seen = new Map<string, DeclaredResource>();
  for (const r of resources) {
    const prior = seen.get(r.id.toLowerCase());
    if (prior) problems.push(`resources[${r.index}] and resources[${prior.index}] declare the same resource ${r.id}`);
    seen.set(r.id.toLowerCase(), r);
  }
  const isDeclared = (idOrName: string) => {
    const x = idOrName.toLowerCase();
    return ids.has(x) || resources.some((r) => r.name.toLowerCase() === x);
  };
  const isExternal = (id: string) => id.toLowerCase().startsWith(ROLE_DEFINITION_PREFIX.toLowerCase());

  const evaluated = new Map<DeclaredResource, Record<string, unknown>>();
  for (const r of resources) {
    try {
      const body = evaluator.evaluateResource(r);
      evaluated.set(r, body);
      const rawDeps = (body.dependsOn as string[] | undefined) ?? [];
      for (const dep of rawDeps) {
        if (!isDeclared(dep) && !copyNames.has(dep.toLowerCase()))
          problems.push(`resources[${r.index}] (${r.name}) dependsOn ${dep}, which the template does not declare`);
      }
      const deps = rawDeps.map((d) => d.toLowerCase());
      // ARM does not infer parents from names: a child declared at top level, or an extension resource on a
      // resource of this template, must depend on that resource explicitly, or it may be created first.
      const parentId = r.id.split("/").slice(0, -2).join("/");
      const parent = r.resource.scope ? parentId.replace(/\/providers$/i, "") : r.type.split("/").length > 2 ? parentId : undefined;
      if (parent && ids.has(parent.toLowerCase()) && !deps.includes(parent.toLowerCase())) {
        problems.push(`resources[${r.index}] (${r.name}) does not dependsOn its parent/scope ${parent}`);
      }
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  let outputs: Record<string, unknown> = {};
  try {
    outputs = evaluator.evaluateOutputs();
  } catch (err) {
    problems.push((err as Error).message);
  }
  for (const { at, id } of evaluator.log.resourceIds) {
    if (!isDeclared(id) && !isExternal(id)) problems.push(`${at}: resourceId ${id} is not declared in the template`);
  }
  for (const { at, target } of evaluator.log.referenceTargets) {
    if (!isDeclared(target)) problems.push(`${at}: reference(${target}) points at nothing the template declares`);
  }
  return { problems, evaluator, resources, evaluated, outputs };
}

/** The value of a setting in an evaluated siteConfig.appSettings array. */
export function appSettingsOf(site: Record<string, unknown>): Map<string, unknown> {
  const list = ((site.properties as Record<string, unknown>)?.siteConfig as { appSettings?: { name: string; value: unknown }[] })?.appSettings ?? [];
  const map = new Map<string, unknown>();
  for (const s of list) {
    if (map.has(s.name)) throw new Error(`app setting ${s.name} is set twice`);
    map.set(s.name, s.value);
  }
  return map;
}

export function asEnv(settings: Map<string, unknown>): Record<string, string> {
  return Object.fromEntries([...settings].map(([k, v]) => [k, armString(v)]));
}
