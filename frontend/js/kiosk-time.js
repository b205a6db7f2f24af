// Times on the kiosk are the conference's, not the TV's: a hall's PC may be set to another
// zone (a borrowed laptop, a TV never set up), and the hall reads its clock against the
// programme. The zone comes with the snapshot (state.meeting.time_zone).
import { lang } from "./i18n.js";

const formats = new Map();

function format(timeZone) {
  const key = `${lang()}|${timeZone}`;
  if (!formats.has(key)) {
    let options = { hour: "2-digit", minute: "2-digit", timeZone };
    try {
      formats.set(key, new Intl.DateTimeFormat(lang(), options));
    } catch (error) {
      // A zone this browser does not know: say the time as the TV has it rather than nothing.
      console.warn("kiosk: unknown time zone", timeZone, error);
      options = { hour: "2-digit", minute: "2-digit" };
      formats.set(key, new Intl.DateTimeFormat(lang(), options));
    }
  }
  return formats.get(key);
}

// "14:05" (in the page's language) of a moment, in the conference's time zone; "" while the
// zone is not known yet.
export function conferenceTime(moment, timeZone) {
  if (!timeZone || moment === null || moment === undefined || moment === "") return "";
  const date = moment instanceof Date ? moment : new Date(moment);
  if (Number.isNaN(date.getTime())) return "";
  return format(timeZone).format(date);
}
