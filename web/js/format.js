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
