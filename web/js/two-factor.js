// Two-factor sign-in with an authenticator app (TOTP): the key's `otpauth://` address that the
// QR code holds, the key as people type it, and what a code must look like. Pure: `node --test`
// imports it.

export const ISSUER = "PollyNotes";

/**
 * The address an authenticator app reads from the QR code (Google Authenticator's Key Uri
 * Format, which Cognito's documentation points to): `otpauth://totp/Issuer:account?secret=…&issuer=Issuer`.
 * @param {string} username
 * @param {string} secret base32, as AssociateSoftwareToken answers it
 */
export function otpauthUri(username, secret) {
  const label = `${encodeURIComponent(ISSUER)}:${encodeURIComponent(username)}`;
  const query = new URLSearchParams({ secret, issuer: ISSUER });
  return `otpauth://totp/${label}?${query}`;
}

/** The key in groups of four ("ABCD EFGH …"), easier to read and to type; apps ignore spaces. */
export const groupedSecret = (secret) => (String(secret).match(/.{1,4}/g) ?? []).join(" ");

/** What is wrong with a typed code, or null: six digits (spaces typed between them are fine). */
export function codeProblem(code) {
  const digits = String(code ?? "").replace(/\s+/g, "");
  if (digits === "") return "Type the 6-digit code your authenticator app shows.";
  if (!/^\d{6}$/.test(digits)) return "The code is 6 digits, such as 123456.";
  return null;
}

/** The code as sent: its digits only. */
export const codeDigits = (code) => String(code ?? "").replace(/\s+/g, "");
