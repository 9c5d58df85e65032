// The user pool's password policy (template.yaml: MinimumLength 12, lower, upper, number, symbol),
// stated on the forms that set a password and checked as it is typed, so Cognito's refusal is
// never the first a person hears of it. Pure, so `node --test` runs it.

/** Cognito's special characters (its password policy documentation), besides an inner space. */
const SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-";

export const MINIMUM_LENGTH = 12;

/** Each rule: `id`, the words shown to people, and its check. */
export const PASSWORD_RULES = Object.freeze([
  { id: "length", label: `At least ${MINIMUM_LENGTH} characters`, met: (p) => [...p].length >= MINIMUM_LENGTH },
  { id: "lower", label: "A lowercase letter (a–z)", met: (p) => /[a-z]/.test(p) },
  { id: "upper", label: "An uppercase letter (A–Z)", met: (p) => /[A-Z]/.test(p) },
  { id: "number", label: "A number (0–9)", met: (p) => /[0-9]/.test(p) },
  {
    id: "symbol",
    label: "A symbol, such as ! ? # - or _",
    met: (p) => [...p].some((c) => SYMBOLS.includes(c)) || /\S \S/.test(p.trim()),
  },
]);

/** The rules `password` does not meet yet, in the order they are shown. */
export const unmetRules = (password) => PASSWORD_RULES.filter((rule) => !rule.met(String(password ?? "")));

/** What to say when a password misses rules: "Your password still needs: a number (0–9), a symbol…". */
export function passwordProblem(password) {
  const unmet = unmetRules(password);
  if (unmet.length === 0) return null;
  const list = unmet.map((rule) => rule.label.charAt(0).toLowerCase() + rule.label.slice(1)).join(", ");
  return `Your password still needs: ${list}.`;
}
