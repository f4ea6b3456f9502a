// A fast path for CEL: the common shapes of check expressions (field access, has(), optionals,
// boolean logic, comparisons of plain values, `in`, size(), the string functions the checks use,
// all/exists over lists) compiled to JavaScript closures, several times faster than walking cel-js's AST.
//
// It never decides anything it is unsure of: wherever CEL could differ from plain JavaScript (a
// missing field, a value of another type, an error that && or || might absorb, equality of lists
// or maps, strings outside the Basic Multilingual Plane) the closure throws DEFER and cel-js
// evaluates the whole expression instead. Expressions with any other construct are left to
// cel-js entirely. test/checks/cel-fast.test.ts compares both on every check and fixture.

/** Thrown when the fast path cannot be sure; the caller evaluates with cel-js. */
export const DEFER: unique symbol = Symbol('defer to cel-js');

type Scope = { context: Record<string, unknown>; slots: unknown[] };
type Fn = (scope: Scope) => unknown;

interface Node {
  op: string;
  args: unknown;
}

const hasOwn = Object.prototype.hasOwnProperty;
// An optional (Some) is never a map: its `value` property is not a field CEL can see.
const isMap = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Some);

function defer(): never {
  throw DEFER;
}

function bool(value: unknown): boolean {
  return typeof value === 'boolean' ? value : defer();
}

/** CEL equality for the plain values the fast path handles: same value, numbers across int/double, otherwise false. */
function equal(a: unknown, b: unknown): boolean {
  if ((typeof a === 'object' && a !== null) || (typeof b === 'object' && b !== null) || typeof a === 'symbol' || typeof b === 'symbol') defer();
  return a === b;
}

function field(value: unknown, name: string): unknown {
  if (!isMap(value) || !hasOwn.call(value, name)) defer();
  const result = (value as Record<string, unknown>)[name];
  return result === undefined ? defer() : result;
}

/** CEL optional values (`a.?b`, `m[?k]`): present with a value, or NONE. */
class Some {
  constructor(readonly value: unknown) {}
}
const NONE = Symbol('optional.none');
type Optional = Some | typeof NONE;

function optional(value: unknown): Optional {
  return value instanceof Some || value === NONE ? value : defer();
}

/** `target.?name` and `target[?name]` on a map: the field if present (null values left to cel-js). */
function optionalField(target: unknown, name: string): Optional {
  if (target === NONE) return NONE;
  const object = target instanceof Some ? target.value : target;
  if (!isMap(object)) return defer();
  if (!hasOwn.call(object, name)) return NONE;
  const value = object[name];
  return value === null || value === undefined ? defer() : new Some(value);
}

/** Characters outside the BMP count once in CEL and twice in JavaScript string lengths. */
const ASTRAL = /[\uD800-\uDFFF]/;

const EMPTY_MAP = Object.freeze({});

const STRING_BINARY = new Map<string, (text: string, other: string) => unknown>([
  ['startsWith', (text, prefix) => text.startsWith(prefix)],
  ['endsWith', (text, suffix) => text.endsWith(suffix)],
  ['contains', (text, part) => text.includes(part)],
  ['split', (text, separator) => text.split(separator)],
]);
const STRING_UNARY = new Map<string, (text: string) => unknown>([
  ['trim', (text) => text.trim()],
  ['lowerAscii', (text) => text.toLowerCase()],
]);

class Compiler {
  private readonly slots: string[] = [];

  compile(node: Node): Fn | undefined {
    const args = node.args as unknown[];
    switch (node.op) {
      case 'value': {
        const value = node.args;
        if (typeof value === 'bigint') {
          if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
          const number = Number(value);
          return () => number;
        }
        if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return () => value;
        return undefined;
      }
      case 'id': {
        const name = node.args as string;
        const slot = this.slots.lastIndexOf(name);
        if (slot >= 0) return (s) => s.slots[slot];
        return (s) => {
          const value = s.context[name];
          return value === undefined ? defer() : value;
        };
      }
      case '.': {
        const [target, name] = args as [Node, string];
        const object = this.compile(target);
        return object && ((s) => field(object(s), name));
      }
      case '.?': {
        const [target, name] = args as [Node, string];
        const object = this.compile(target);
        return object && ((s) => optionalField(object(s), name));
      }
      case '[?]': {
        const [target, index] = args as [Node, Node];
        if (index.op !== 'value' || typeof index.args !== 'string') return undefined;
        const key = index.args;
        const object = this.compile(target);
        return object && ((s) => optionalField(object(s), key));
      }
      case '[]': {
        const [target, index] = args as [Node, Node];
        // Only literal indexes: list[0], map["key"].
        if (index.op !== 'value' || !(typeof index.args === 'bigint' || typeof index.args === 'string')) return undefined;
        const key = typeof index.args === 'bigint' ? Number(index.args) : index.args;
        const object = this.compile(target);
        if (!object) return undefined;
        if (typeof key === 'number') {
          return (s) => {
            const list = object(s);
            return Array.isArray(list) && key >= 0 && key < list.length ? list[key] : defer();
          };
        }
        return (s) => field(object(s), key);
      }
      case '!_': {
        const operand = this.compile(node.args as Node);
        return operand && ((s) => !bool(operand(s)));
      }
      case '&&':
      case '||': {
        const [left, right] = this.pair(args);
        if (!left || !right) return undefined;
        const decisive = node.op === '||';
        // Left decides alone when it is decisive; an error or a non-boolean anywhere defers, since
        // CEL lets the other side absorb errors.
        return (s) => (bool(left(s)) === decisive ? decisive : bool(right(s)));
      }
      case '==':
      case '!=': {
        const [left, right] = this.pair(args);
        if (!left || !right) return undefined;
        return node.op === '==' ? (s) => equal(left(s), right(s)) : (s) => !equal(left(s), right(s));
      }
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const [left, right] = this.pair(args);
        if (!left || !right) return undefined;
        const compare = { '<': (a: number, b: number) => a < b, '<=': (a: number, b: number) => a <= b, '>': (a: number, b: number) => a > b, '>=': (a: number, b: number) => a >= b }[node.op]!;
        return (s) => {
          const a = left(s);
          const b = right(s);
          return typeof a === 'number' && typeof b === 'number' ? compare(a, b) : defer();
        };
      }
      case 'in': {
        const [left, right] = this.pair(args);
        if (!left || !right) return undefined;
        return (s) => {
          const needle = left(s);
          const haystack = right(s);
          if (Array.isArray(haystack)) {
            for (const element of haystack) if (equal(needle, element)) return true;
            return false;
          }
          if (isMap(haystack) && typeof needle === 'string') return hasOwn.call(haystack, needle);
          return defer();
        };
      }
      case '?:': {
        const [condition, then, otherwise] = args.map((a) => this.compile(a as Node));
        if (!condition || !then || !otherwise) return undefined;
        return (s) => (bool(condition(s)) ? then(s) : otherwise(s));
      }
      case '-_': {
        // Negative literals only (-1): negating a runtime value follows CEL's int/double rules.
        const operand = node.args as Node;
        if (operand.op !== 'value' || (typeof operand.args !== 'bigint' && typeof operand.args !== 'number')) return undefined;
        const value = this.compile(operand);
        if (!value) return undefined;
        const negative = -(value({ context: {}, slots: [] }) as number);
        return () => negative;
      }
      case 'map': {
        // The empty map literal (`orValue({})`); a frozen one, shared, since nothing can change it.
        if ((args as unknown[]).length) return undefined;
        return () => EMPTY_MAP;
      }
      case 'list': {
        const elements = (args as Node[]).map((a) => this.compile(a));
        if (elements.some((e) => !e)) return undefined;
        return (s) => elements.map((e) => e!(s));
      }
      case 'call':
        return this.call(args[0] as string, args[1] as Node[]);
      case 'rcall':
        return this.receiverCall(args[0] as string, args[1] as Node, args[2] as Node[]);
      default:
        return undefined;
    }
  }

  /** Compiles `body` with `name` (a macro's or bind's variable) in a new slot. */
  private scoped(name: string, body: Node): [number, Fn | undefined] {
    const slot = this.slots.push(name) - 1;
    const fn = this.compile(body);
    this.slots.pop();
    return [slot, fn];
  }

  private pair(args: unknown[]): [Fn | undefined, Fn | undefined] {
    return [this.compile(args[0] as Node), this.compile(args[1] as Node)];
  }

  private call(name: string, args: Node[]): Fn | undefined {
    if (name === 'has' && args.length === 1 && args[0].op === '.') {
      const [target, key] = args[0].args as [Node, string];
      const object = this.compile(target);
      if (!object) return undefined;
      return (s) => {
        const value = object(s);
        if (value === null) return false;
        if (!isMap(value)) return defer();
        if (!hasOwn.call(value, key)) return false;
        // A key present with null or undefined: leave the CEL reading of presence to cel-js.
        return value[key] === null || value[key] === undefined ? defer() : true;
      };
    }
    if (name === 'size' && args.length === 1) {
      const operand = this.compile(args[0]);
      if (!operand) return undefined;
      return (s) => {
        const value = operand(s);
        if (typeof value === 'string') return ASTRAL.test(value) ? defer() : value.length;
        if (Array.isArray(value)) return value.length;
        if (isMap(value)) return Object.keys(value).length;
        return defer();
      };
    }
    return undefined;
  }

  private receiverCall(name: string, receiver: Node, args: Node[]): Fn | undefined {
    // String functions exactly as cel-js defines them.
    const binary = STRING_BINARY.get(name);
    if (binary && args.length === 1) {
      const target = this.compile(receiver);
      const argument = this.compile(args[0]);
      if (!target || !argument) return undefined;
      return (s) => {
        const text = target(s);
        const other = argument(s);
        return typeof text === 'string' && typeof other === 'string' ? binary(text, other) : defer();
      };
    }
    const unary = STRING_UNARY.get(name);
    if (unary && args.length === 0) {
      const target = this.compile(receiver);
      return target && ((s) => {
        const text = target(s);
        return typeof text === 'string' ? unary(text) : defer();
      });
    }
    // cel-js's matches() builds `new RegExp(pattern)` on every call; a literal pattern is built once here.
    if (name === 'matches' && args.length === 1 && args[0].op === 'value' && typeof args[0].args === 'string') {
      const target = this.compile(receiver);
      let pattern: RegExp;
      try {
        pattern = new RegExp(args[0].args);
      } catch {
        return undefined;
      }
      return target && ((s) => {
        const text = target(s);
        return typeof text === 'string' ? pattern.test(text) : defer();
      });
    }
    // opt.orValue(value) gives the value; opt.or(other) another optional.
    if ((name === 'orValue' || name === 'or') && args.length === 1) {
      const target = this.compile(receiver);
      const other = this.compile(args[0]);
      if (!target || !other) return undefined;
      const unwrap = name === 'orValue';
      return (s) => {
        const value = optional(target(s));
        if (value !== NONE) return unwrap ? value.value : value;
        return unwrap ? other(s) : optional(other(s));
      };
    }
    if (name === 'hasValue' && args.length === 0) {
      const target = this.compile(receiver);
      return target && ((s) => optional(target(s)) !== NONE);
    }
    // cel.bind(name, init, body): init evaluated once, then body with name bound to it.
    if (name === 'bind' && receiver.op === 'id' && receiver.args === 'cel' && args.length === 3 && args[0].op === 'id') {
      const init = this.compile(args[1]);
      const [slot, body] = this.scoped(args[0].args as string, args[2]);
      if (!init || !body) return undefined;
      return (s) => {
        const saved = s.slots[slot];
        s.slots[slot] = init(s);
        try {
          return body(s);
        } finally {
          s.slots[slot] = saved;
        }
      };
    }
    if ((name === 'all' || name === 'exists') && args.length === 2 && args[0].op === 'id') {
      const list = this.compile(receiver);
      const [slot, predicate] = this.scoped(args[0].args as string, args[1]);
      if (!list || !predicate) return undefined;
      const decisive = name === 'exists';
      return (s) => {
        const value = list(s);
        const elements = Array.isArray(value) ? value : isMap(value) ? Object.keys(value) : defer();
        const saved = s.slots[slot];
        try {
          for (const element of elements) {
            s.slots[slot] = element;
            if (bool(predicate(s)) === decisive) return decisive;
          }
          return !decisive;
        } finally {
          s.slots[slot] = saved;
        }
      };
    }
    return undefined;
  }
}

/** A closure for the expression's AST, or undefined when it uses anything the fast path does not handle. */
export function compileFast(ast: unknown): ((context: Record<string, unknown>) => unknown) | undefined {
  const fn = new Compiler().compile(ast as Node);
  if (!fn) return undefined;
  return (context) => fn({ context, slots: [] });
}
