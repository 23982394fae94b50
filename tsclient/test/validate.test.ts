// The generated readers follow the wire contract: lengths in code points, Go's trim,
// the image-data-url shape, safe integers, absent or null optional fields, unknown
// fields dropped, and paths that name the value at fault.

import { describe, expect, test } from "vitest";

import {
  readAuth,
  readImageDataURL,
  readProfile,
  readSetUsername,
  readUsername,
  readUsernameSaved,
  serverEvents,
  ValidationError,
} from "../src/index";
// The kitchen-sink golden (gen/testdata/kitchen-sink/ts): the constructs the KARL schema does not use.
import * as sink from "../../gen/testdata/kitchen-sink/ts/validate";

/** failure returns the ValidationError read throws (the kitchen-sink one is another class of the same name). */
function failure(read: () => unknown): ValidationError {
  try {
    read();
  } catch (err) {
    if (err instanceof Error && err.name === "ValidationError") return err as ValidationError;
    throw err;
  }
  throw new Error("expected a ValidationError");
}

describe("strings", () => {
  test("normalize: nfc puts names in NFC after the trim, before the checks, as the Go side does", () => {
    expect(readUsername("cafe\u0301")).toBe("caf\u00e9"); // typed with a combining accent: one name with the precomposed one
    expect(readSetUsername({ username: "  Jose\u0301 " })).toEqual({ username: "Jos\u00e9" });
    // Lengths count the normalized text: 32 accented letters typed decomposed are 64 code points, 32 after NFC.
    expect(readUsername("e\u0301".repeat(32))).toBe("\u00e9".repeat(32));
    expect(failure(() => readUsername("e\u0301".repeat(33))).reason).toBe("longer than 32 characters");
  });

  test("lengths count code points, not UTF-16 units", () => {
    expect(readUsername("𠀀".repeat(32))).toHaveLength(64); // 32 characters (CJK, outside the BMP), 64 units
    expect(failure(() => readUsername("𠀀".repeat(33))).reason).toBe("longer than 32 characters");
    expect(failure(() => readAuth({ token: "é".repeat(257) }))).toMatchObject({ path: "token", reason: "longer than 256 characters" });
    expect(failure(() => readUsernameSaved({ token: "😀".repeat(22), username: "a", expiresAt: 0 })).reason).toBe(
      "shorter than 43 characters",
    );
  });

  test("trim removes what Go's strings.TrimSpace removes, before the checks", () => {
    expect(readUsername("\t Alice \n")).toBe("Alice");
    expect(readUsername("\u00a0\u3000Alice\u2029")).toBe("Alice");
    expect(readUsername("\u0085Alice\u0085")).toBe("Alice"); // NEL: Go trims it, String.prototype.trim does not
    expect(failure(() => readUsername("\ufeffAlice")).reason).toMatch(/pattern/); // BOM: Go keeps it
    expect(failure(() => readUsername("   ")).reason).toBe("shorter than 1 character");
  });

  test("patterns run with the u flag: letters of any script", () => {
    expect(readUsername("Zoë_ Ørsted-李.2")).toBe("Zoë_ Ørsted-李.2");
    expect(failure(() => readUsername("a/b"))).toMatchObject({ path: "", reason: "does not match the pattern ^[\\p{L}\\p{M}\\p{N} _.\\-]+$" });
    expect(sink.readSlug("a/b-c")).toBe("a/b-c");
  });

  test("image-data-url: png, jpeg, webp or gif, standard base64 with padding", () => {
    for (const ok of ["data:image/png;base64,iVBORw==", "data:image/jpeg;base64,/9j/4A==", "data:image/webp;base64,UklG", "data:image/gif;base64,R0lGODlh"]) {
      expect(readImageDataURL(ok)).toBe(ok);
    }
    for (const bad of [
      "data:image/svg+xml;base64,PHN2Zz4=",
      "data:image/png;base64,",
      "data:image/png;base64,iVBORw=", // not a multiple of 4
      "data:image/png;base64,iV-_Rw==", // URL-safe alphabet
      "data:image/png;base64,i=BORw==", // padding inside
      "iVBORw==",
      "DATA:image/png;base64,iVBORw==",
    ]) {
      expect(failure(() => readImageDataURL(bad)).reason).toMatch(/^expected a data URL/);
    }
  });
});

describe("objects", () => {
  test("optional fields may be absent or null; unknown fields are dropped", () => {
    expect(readProfile({ username: "Alice", profileImage: null, extra: 1 })).toEqual({ username: "Alice" });
    expect(readProfile({ username: "Alice" })).toEqual({ username: "Alice" });
    expect(Object.keys(readProfile({ username: "Alice", profileImage: undefined }))).toEqual(["username"]);
  });

  test("required fields: absent and null are both missing", () => {
    expect(failure(() => readSetUsername({}))).toMatchObject({ path: "username", reason: "required" });
    expect(failure(() => readSetUsername({ username: null }))).toMatchObject({ path: "username", reason: "required" });
    expect(failure(() => readSetUsername("Alice"))).toMatchObject({ path: "", reason: "expected an object, got a string" });
    expect(failure(() => readSetUsername([]))).toMatchObject({ reason: "expected an object, got an array" });
  });

  test("paths name nested fields and array items", () => {
    const draw = {
      points: [{ x: 1, y: 2 }, { x: 1, y: "2" }],
      color: "red",
      closed: false,
      at: 0,
      style: "solid",
      matrix: [[1, 2]],
    };
    expect(failure(() => sink.readDraw(draw))).toMatchObject({ path: "points[1].y", reason: "expected a number, got a string" });
    expect(failure(() => sink.readDraw({ ...draw, points: [], matrix: [[1, 2], [3]] }))).toMatchObject({
      path: "matrix[1]",
      reason: "fewer than 2 items",
    });
    expect(failure(() => sink.readDescribe({ id: 1, settings: { tags: ["a", "b".repeat(11)] } }))).toMatchObject({
      path: "settings.tags[1]",
      reason: "longer than 10 characters",
    });
    expect(failure(() => sink.readDescribe({ id: 1, settings: { tags: [] } })).path).toBe("settings.tags");
  });
});

describe("numbers and enums", () => {
  test("integers are safe integers; numbers are finite; timestamps are integers of Unix ms", () => {
    expect(sink.readAge(150)).toBe(150);
    expect(failure(() => sink.readAge(151)).reason).toBe("greater than 150");
    expect(failure(() => sink.readAge(-1)).reason).toBe("less than 0");
    expect(failure(() => sink.readAge(1.5)).reason).toBe("expected an integer, got 1.5");
    expect(failure(() => sink.readUserID(2 ** 53)).reason).toBe(`expected an integer, got ${2 ** 53}`);
    expect(failure(() => sink.readRatio(Number.NaN)).reason).toBe("not a finite number");
    expect(sink.readRatio(1.5)).toBe(1.5);
    expect(failure(() => readUsernameSaved({ token: "a".repeat(43), username: "a", expiresAt: 1.5 }))).toMatchObject({
      path: "expiresAt",
      reason: "expected a timestamp in Unix milliseconds, got a number",
    });
  });

  test("enums accept their values only, and type them", () => {
    const color: "red" | "green" | "light-blue" = sink.readColor("light-blue");
    expect(color).toBe("light-blue");
    expect(failure(() => sink.readColor("blue")).reason).toBe('must be one of "red", "green", "light-blue"');
  });

  test("booleans", () => {
    expect(failure(() => sink.readDescribeSettings({ dark: "yes" }))).toMatchObject({ path: "dark", reason: "expected a boolean, got a string" });
  });
});

test("serverEvents has a reader for every server event, request-error and the presence events of chat included", () => {
  expect(Object.keys(serverEvents).sort()).toEqual([
    "chat-presence",
    "chat-presence-diff",
    "new-message",
    "new-user-connected",
    "profile-image-saved",
    "reconnected",
    "request-error",
    "token-expired",
    "user-typing",
    "username-saved",
  ]);
  expect(serverEvents["token-expired"]({}, "")).toBeUndefined();
  expect(serverEvents["request-error"]({ event: "e", code: "internal", message: "m", path: null }, "")).toEqual({
    event: "e",
    code: "internal",
    message: "m",
  });
});
