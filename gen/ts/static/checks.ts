// The checks the generated readers (validate.ts) are made of. Each reads a value
// decoded from JSON, checks one rule of the schema language and throws a
// ValidationError naming the value's path; they mirror the Go runtime's decoders
// (runtime/decode.go) rule for rule and message for message, so the client refuses
// exactly what the server would.

import type { ErrorCode, RequestError } from "./types";

/** ValidationError reports the first value that does not match the schema. */
export class ValidationError extends Error {
  /** Where the value sits in the payload, e.g. "username", "items[2].name"; "" for the payload itself. */
  readonly path: string;
  /** What is wrong with it, e.g. "longer than 32 characters". */
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(path === "" ? reason : `${path}: ${reason}`);
    this.name = "ValidationError";
    this.path = path;
    this.reason = reason;
  }
}

/**
 * Reader reads a value decoded from JSON at path, checks it against the schema and
 * returns a clean copy: strings trimmed where the schema says so, absent or null
 * optional fields left out, unknown fields dropped. It throws a ValidationError.
 */
export type Reader<T> = (value: unknown, path: string) => T;

/** fail throws the ValidationError of the value at path. */
export function fail(path: string, reason: string): never {
  throw new ValidationError(path, reason);
}

/** at is the path of field key inside the value at path. */
export function at(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** atIndex is the path of item i inside the array at path. */
export function atIndex(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** describe names the JSON kind of a value for messages, as the Go runtime does. */
function describe(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    case "object":
      return "an object";
  }
  return typeof v;
}

/** asObject reads a JSON object. */
export function asObject(v: unknown, path: string): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    fail(path, `expected an object, got ${describe(v)}`);
  }
  return v as Record<string, unknown>;
}

/** required reads field key of o with read; a missing or null field fails. */
export function required<T>(o: Record<string, unknown>, key: string, path: string, read: Reader<T>): T {
  const v = o[key];
  if (v === undefined || v === null) fail(at(path, key), "required");
  return read(v, at(path, key));
}

/** asString reads a JSON string. */
export function asString(v: unknown, path: string): string {
  if (typeof v !== "string") fail(path, `expected a string, got ${describe(v)}`);
  return v;
}

// Go's strings.TrimSpace removes what unicode.IsSpace reports; JavaScript's trim()
// removes a different set (it keeps U+0085 and removes U+FEFF), so the set is spelled out.
const leadingSpace = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
const trailingSpace = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;

/** asTrimmedString reads a JSON string without its leading and trailing white space. */
export function asTrimmedString(v: unknown, path: string): string {
  return asString(v, path).replace(leadingSpace, "").replace(trailingSpace, "");
}

/** asInteger reads a JSON number without fraction, within JavaScript's safe integers. */
export function asInteger(v: unknown, path: string): number {
  if (typeof v !== "number") fail(path, `expected an integer, got ${describe(v)}`);
  if (!Number.isSafeInteger(v)) fail(path, `expected an integer, got ${v}`);
  return v;
}

/** asNumber reads a finite JSON number. */
export function asNumber(v: unknown, path: string): number {
  if (typeof v !== "number") fail(path, `expected a number, got ${describe(v)}`);
  if (!Number.isFinite(v)) fail(path, "not a finite number");
  return v;
}

/** asBoolean reads a JSON boolean. */
export function asBoolean(v: unknown, path: string): boolean {
  if (typeof v !== "boolean") fail(path, `expected a boolean, got ${describe(v)}`);
  return v;
}

/** asTimestamp reads a timestamp: an integer of Unix milliseconds. */
export function asTimestamp(v: unknown, path: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) {
    fail(path, `expected a timestamp in Unix milliseconds, got ${describe(v)}`);
  }
  return v;
}

/** asArray reads a JSON array whose items are read with read. */
export function asArray<T>(v: unknown, path: string, read: Reader<T>): T[] {
  if (!Array.isArray(v)) fail(path, `expected an array, got ${describe(v)}`);
  return v.map((item, i) => read(item, atIndex(path, i)));
}

/** readNothing reads the payload of an event without fields: whatever came is ignored. */
export function readNothing(_v: unknown, _path: string): undefined {
  return undefined;
}

/** codePoints counts the Unicode code points of s, as the server counts characters. */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

/** minLength checks that s has at least n characters (code points). */
export function minLength(s: string, n: number, path: string): void {
  // A code point takes one or two UTF-16 units: only lengths in between need counting.
  if (s.length < 2 * n && (s.length < n || codePoints(s) < n)) {
    fail(path, `shorter than ${n} ${plural(n, "character")}`);
  }
}

/** maxLength checks that s has at most n characters (code points). */
export function maxLength(s: string, n: number, path: string): void {
  if (s.length > n && codePoints(s) > n) {
    fail(path, `longer than ${n} ${plural(n, "character")}`);
  }
}

/** matches checks that s matches the schema's pattern. */
export function matches(s: string, pattern: RegExp, path: string): void {
  if (!pattern.test(s)) fail(path, `does not match the pattern ${pattern.source}`);
}

/** oneOf checks that s is one of the allowed values and returns it with their type. */
export function oneOf<T extends string>(s: string, allowed: readonly T[], path: string): T {
  if (!(allowed as readonly string[]).includes(s)) {
    fail(path, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
  }
  return s as T;
}

/** min checks that x >= n. */
export function min(x: number, n: number, path: string): void {
  if (x < n) fail(path, `less than ${n}`);
}

/** max checks that x <= n. */
export function max(x: number, n: number, path: string): void {
  if (x > n) fail(path, `greater than ${n}`);
}

/** minItems checks that an array has at least n items. */
export function minItems(a: readonly unknown[], n: number, path: string): void {
  if (a.length < n) fail(path, `fewer than ${n} ${plural(n, "item")}`);
}

/** maxItems checks that an array has at most n items. */
export function maxItems(a: readonly unknown[], n: number, path: string): void {
  if (a.length > n) fail(path, `more than ${n} ${plural(n, "item")}`);
}

// The shape the server checks (runtime.Format): standard base64 whose length is a
// multiple of 4, "=" only in the last two places; the content is not decoded.
const imageDataURLShape = /^data:image\/(?:png|jpeg|webp|gif);base64,(?=(?:.{4})+$)[A-Za-z0-9+/]*(?:[A-Za-z0-9+/=]{2})?$/;

/** imageDataURL checks the "image-data-url" format: data:image/<png|jpeg|webp|gif>;base64,<standard base64>. */
export function imageDataURL(s: string, path: string): void {
  if (!imageDataURLShape.test(s)) fail(path, "expected a data URL data:image/<png|jpeg|webp|gif>;base64,...");
}

/** readRequestError reads the payload of "request-error", which the runtime sends for every schema. */
export function readRequestError(v: unknown, path: string): RequestError {
  const o = asObject(v, path);
  const x: RequestError = {
    event: required(o, "event", path, asString),
    // The server sends only the runtime's codes and those the schema declares.
    code: required(o, "code", path, asString) as ErrorCode,
    message: required(o, "message", path, asString),
  };
  if (o["path"] != null) x.path = asString(o["path"], at(path, "path"));
  return x;
}
