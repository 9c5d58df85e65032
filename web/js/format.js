// Display formats. Pure.

/** A time in the reader's locale and time zone ("3 Dec 2026, 08:15"); the ISO text as given if
 * it is not a date. */
export function formatTime(iso, locale = undefined, timeZone = undefined) {
  const date = new Date(iso);
  if (typeof iso !== "string" || Number.isNaN(date.getTime())) return String(iso ?? "");
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone }).format(date);
}

/** The Polly voices offered (VoiceId, language), Joanna first as the default. */
export const VOICES = Object.freeze([
  ["Joanna", "English, US"],
  ["Matthew", "English, US"],
  ["Ivy", "English, US"],
  ["Justin", "English, US"],
  ["Kendra", "English, US"],
  ["Kimberly", "English, US"],
  ["Salli", "English, US"],
  ["Joey", "English, US"],
  ["Amy", "English, UK"],
  ["Brian", "English, UK"],
  ["Emma", "English, UK"],
  ["Olivia", "English, Australia"],
  ["Aria", "English, New Zealand"],
  ["Ayanda", "English, South Africa"],
  ["Lea", "French"],
  ["Celine", "French"],
  ["Mathieu", "French"],
  ["Hans", "German"],
  ["Marlene", "German"],
  ["Vicki", "German"],
  ["Conchita", "Spanish, Spain"],
  ["Enrique", "Spanish, Spain"],
  ["Lucia", "Spanish, Spain"],
  ["Lupe", "Spanish, US"],
  ["Mia", "Spanish, Mexico"],
  ["Giorgio", "Italian"],
  ["Carla", "Italian"],
  ["Bianca", "Italian"],
  ["Takumi", "Japanese"],
  ["Mizuki", "Japanese"],
  ["Seoyeon", "Korean"],
  ["Zhiyu", "Chinese, Mandarin"],
  ["Camila", "Portuguese, Brazil"],
  ["Vitoria", "Portuguese, Brazil"],
  ["Ricardo", "Portuguese, Brazil"],
].map(([id, language]) => Object.freeze({ id, label: `${id} (${language})` })));

/** Beyond these a note is collapsed to a few lines with "Show more": a 10,000-character note
 * must not push every other note off the screen. A shorter note is shown whole, so nothing is
 * ever hidden without the button that reveals it. */
export const LONG_TITLE_CHARS = 80;
export const LONG_REST_CHARS = 160;
export const LONG_REST_LINES = 3;

/**
 * A note as a card: its first non-blank line as the title, the rest (blank lines before it
 * dropped) as the preview, and whether it is long enough to collapse.
 * @param {string} text
 * @returns {{title: string, rest: string, long: boolean}}
 */
export function noteCard(text) {
  const lines = String(text ?? "").split("\n");
  const first = lines.findIndex((line) => line.trim() !== "");
  if (first === -1) return { title: "", rest: "", long: false };
  const title = lines[first].trim();
  const restLines = lines.slice(first + 1);
  while (restLines.length > 0 && restLines[0].trim() === "") restLines.shift();
  while (restLines.length > 0 && restLines[restLines.length - 1].trim() === "") restLines.pop();
  const rest = restLines.join("\n");
  const long = title.length > LONG_TITLE_CHARS || rest.length > LONG_REST_CHARS || restLines.length > LONG_REST_LINES;
  return { title, rest, long };
}
