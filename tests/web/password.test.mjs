import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { MINIMUM_LENGTH, PASSWORD_RULES, passwordProblem, unmetRules } from "../../web/js/password.js";

describe("the pool's password policy", () => {
  test("states the policy of template.yaml: 12 characters, lower, upper, number, symbol", () => {
    assert.equal(MINIMUM_LENGTH, 12);
    assert.deepEqual(
      PASSWORD_RULES.map((r) => r.id),
      ["length", "lower", "upper", "number", "symbol"],
    );
  });
  const cases = [
    { password: "Correct-Horse-9!", unmet: [], why: "meets every rule" },
    { password: "", unmet: ["length", "lower", "upper", "number", "symbol"], why: "empty" },
    { password: "short-A1a", unmet: ["length"], why: "too short" },
    { password: "CORRECT-HORSE-9!", unmet: ["lower"], why: "no lowercase" },
    { password: "correct-horse-9!", unmet: ["upper"], why: "no uppercase" },
    { password: "Correct-Horse-X!", unmet: ["number"], why: "no number" },
    { password: "CorrectHorse99", unmet: ["symbol"], why: "no symbol" },
    { password: "Correct Horse 99", unmet: [], why: "an inner space counts as a symbol, as in Cognito" },
    { password: " CorrectHorse99 ", unmet: ["symbol"], why: "leading and trailing spaces do not" },
    { password: "Crrct^Hrs$99ab", unmet: [], why: "^ and $ are Cognito symbols" },
    { password: "Ünïcödé-Horse9", unmet: [], why: "non-ASCII letters count towards the length" },
  ];
  for (const c of cases) {
    test(c.why, () => assert.deepEqual(unmetRules(c.password).map((r) => r.id), c.unmet));
  }
  test("the problem names what is missing, in the rules' own words", () => {
    assert.equal(passwordProblem("Correct-Horse-9!"), null);
    assert.equal(
      passwordProblem("CorrectHorseX"),
      "Your password still needs: a number (0–9), a symbol, such as ! ? # - or _.",
    );
  });
});
