import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { codeDigits, codeProblem, groupedSecret, otpauthUri } from "../../web/js/two-factor.js";

describe("otpauthUri", () => {
  test("issuer and account in the label, the key and issuer in the query", () => {
    assert.equal(
      otpauthUri("alice", "JBSWY3DPEHPK3PXP"),
      "otpauth://totp/PollyNotes:alice?secret=JBSWY3DPEHPK3PXP&issuer=PollyNotes",
    );
  });
  test("a username with reserved characters is escaped", () => {
    assert.equal(
      otpauthUri("al ice:&?", "KEY"),
      "otpauth://totp/PollyNotes:al%20ice%3A%26%3F?secret=KEY&issuer=PollyNotes",
    );
  });
});

describe("groupedSecret", () => {
  const cases = [
    { secret: "ABCDEFGHIJ", want: "ABCD EFGH IJ", why: "groups of four, the last shorter" },
    { secret: "ABCD", want: "ABCD", why: "one group" },
    { secret: "", want: "", why: "nothing" },
  ];
  for (const c of cases) test(c.why, () => assert.equal(groupedSecret(c.secret), c.want));
});

describe("codeProblem", () => {
  const cases = [
    { code: "123456", want: null, why: "six digits" },
    { code: "123 456", want: null, why: "a space between groups, as apps show it" },
    { code: "", want: "Type the 6-digit code your authenticator app shows.", why: "nothing typed" },
    { code: "12345", want: "The code is 6 digits, such as 123456.", why: "too short" },
    { code: "1234567", want: "The code is 6 digits, such as 123456.", why: "too long" },
    { code: "12ab56", want: "The code is 6 digits, such as 123456.", why: "letters" },
  ];
  for (const c of cases) test(c.why, () => assert.equal(codeProblem(c.code), c.want));
  test("the code is sent as its digits", () => assert.equal(codeDigits(" 123 456 "), "123456"));
});
