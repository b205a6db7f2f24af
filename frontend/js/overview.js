// The organiser's overview of a round (docs/rounds.md, "The organiser's overview"): every
// conference of the round on one screen, live. The page opens each conference's staff stream
// (the organiser is an observer there: snapshot, then patches, with live.js's seq/gap repair),
// keeps each conference's state as its dashboard does, and reduces it to one row
// (overview-row.js). Read-only: it sends nothing but the stream's hello and ping.
import { bound, h, pageConfig } from "./dom.js";
import { clock, duration, statusLabel } from "./format.js";
import { _, fmt } from "./i18n.js";
import { MeetingStream } from "./live.js";
import { summarise } from "./overview-row.js";
import { connectionText } from "./status.js";

const config = pageConfig();
const LOST_SECONDS = config.hall_lost_seconds;
const SPREAD_NOTICE_SECONDS = 60;

// The server's clock, as the streams tell it (welcome, pong): lost-since and late are compared
// with it, never with the device's own clock.
let clockOffset = 0;
const serverNow = () => Date.now() + clockOffset;
const noteServerTime = (frame) => {
  if (frame.server_time) clockOffset = Date.parse(frame.server_time) - Date.now();
};

const conferences = config.conferences.map((conference, index) => {
  const entry = { ...conference, index, state: null, status: "connecting", code: null };
  entry.stream = new MeetingStream({
    wsPath: conference.ws,
    onState: (state) => { entry.state = state; scheduleRender(); },
    onStatus: (status, code) => { entry.status = status; entry.code = code; scheduleRender(); },
  });
  entry.stream.on("welcome", noteServerTime);
  entry.stream.on("pong", noteServerTime);
  return entry;
});

let pending = false;
function scheduleRender() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => { pending = false; render(); });
}

const minutes = (s) => duration(s);
const problemCount = (row) => row.problems.lost + (row.problems.late ? 1 : 0) + (row.problems.over ? 1 : 0);

function render() {
  const now = serverNow();
  const rows = conferences.map((conference) => ({
    conference,
    row: conference.state ? summarise(conference.state, now, LOST_SECONDS) : null,
  }));
  renderTotals(rows);
  renderRows(rows);
  bound("server-clock").textContent = clock(new Date(now).toISOString());
  const live = conferences.filter((c) => c.status === "live").length;
  const connection = bound("connection");
  connection.dataset.state = live === conferences.length ? "live" : "connecting";
  connection.textContent = fmt("streams: %(live)s of %(all)s live", { live, all: conferences.length });
}

function renderTotals(rows) {
  const ready = rows.filter(({ row }) => row).map(({ row }) => row);
  const sum = (pick) => ready.reduce((total, row) => total + pick(row), 0);
  const phases = (phase) => ready.filter((row) => row.phase === phase).length;
  const lost = sum((row) => row.halls.lost.length);
  const longLost = sum((row) => row.problems.lost);
  const late = ready.filter((row) => row.late).length;
  const over = ready.filter((row) => row.itemOver).length;
  const fact = (testid, text, problem = false) =>
    h("span", { class: `ov-fact${problem ? " problem" : ""}`, "data-testid": testid }, text);
  bound("totals").replaceChildren(
    fact("total-conferences", fmt("%(live)s live · %(waiting)s not started · %(ended)s ended", {
      live: phases("live"), waiting: phases("not-started"), ended: phases("ended"),
    })),
    fact("total-halls", fmt("halls connected: %(connected)s of %(total)s", {
      connected: sum((row) => row.halls.connected), total: sum((row) => row.halls.total),
    })),
    fact("total-lost", fmt("lost: %(lost)s (over %(limit)s s: %(long)s)", { lost, long: longLost, limit: LOST_SECONDS }), longLost > 0),
    fact("total-attendance", fmt("attendance: %(count)s", { count: sum((row) => row.attendance) })),
    fact("total-questions", fmt("questions received %(received)s · approved %(approved)s · answered %(answered)s", {
      received: sum((row) => row.questions.received),
      approved: sum((row) => row.questions.approved),
      answered: sum((row) => row.questions.answered),
    })),
    fact("total-late", fmt("running late: %(late)s · over time: %(over)s", { late, over }), late + over > 0),
  );
}

function renderRows(rows) {
  const onlyProblems = bound("only-problems").checked;
  const order = bound("sort").value;
  const shown = rows.filter(({ conference, row }) =>
    !onlyProblems || !row || problemCount(row) > 0 || conference.status !== "live");
  shown.sort((a, b) => {
    if (order === "title") return a.conference.title.localeCompare(b.conference.title, "vi");
    if (order === "problems") {
      const difference = (b.row ? problemCount(b.row) : 0) - (a.row ? problemCount(a.row) : 0);
      if (difference) return difference;
    }
    return a.conference.index - b.conference.index;
  });
  bound("rows").replaceChildren(...shown.map(({ conference, row }) => rowElement(conference, row)));
  bound("shown").textContent = fmt("%(shown)s of %(all)s conferences shown", { shown: shown.length, all: rows.length });
}

function rowElement(conference, row) {
  const title = h("td", { class: "ov-title" },
    h("a", { href: conference.dashboard }, conference.title),
    h("div", { class: "muted small" }, conference.electoral_unit),
    conference.status !== "live"
      ? h("div", { class: "conn", "data-state": conference.status, "data-testid": "stream" }, connectionText(conference.status, conference.code))
      : null,
  );
  if (!row) {
    return h("tr", { "data-slug": conference.slug, "data-phase": "unknown" }, title,
      h("td", { colspan: 6, class: "muted" }, _("connecting…")));
  }
  const problems = problemCount(row);
  return h("tr", {
    "data-slug": conference.slug,
    "data-phase": row.phase,
    "data-problems": problems,
    class: problems ? "problem" : "",
  },
  title,
  h("td", {},
    h("span", { class: `badge status-${row.status}`, "data-testid": "state" }, statusLabel(row.status)),
    lateElement(row.late)),
  agendaCell(row),
  hallsCell(row),
  h("td", { class: "num", "data-testid": "attendance", "data-value": row.attendance, title: fmt("%(count)s halls have reported", { count: row.reported }) }, String(row.attendance)),
  h("td", { class: "num mono", "data-testid": "questions", title: _("received / approved / answered") },
    h("span", { "data-testid": "received" }, String(row.questions.received)), " / ",
    h("span", { "data-testid": "approved" }, String(row.questions.approved)), " / ",
    h("span", { "data-testid": "answered" }, String(row.questions.answered))),
  speakingCell(row.speaking),
  );
}

function lateElement(late) {
  if (!late) return null;
  const words = {
    "not-opened": _("not opened, %(time)s past the scheduled start"),
    "nothing-started": _("open, no agenda item started, %(time)s past the scheduled start"),
    "started-late": _("started %(time)s late"),
  }[late.kind];
  return h("div", { class: "ov-late", "data-testid": "late", "data-kind": late.kind }, fmt(words, { time: minutes(late.seconds) }));
}

function agendaCell(row) {
  if (!row.item) {
    return h("td", { class: "muted", "data-testid": "agenda" }, row.phase === "live" ? _("no item running") : "–");
  }
  const elapsed = (serverNow() - Date.parse(row.item.started_at)) / 1000;
  const timer = row.item.allowance_seconds > 0
    ? fmt("%(used)s of %(allowed)s", { used: minutes(elapsed), allowed: minutes(row.item.allowance_seconds) })
    : minutes(elapsed);
  return h("td", { "data-testid": "agenda", "data-item": row.item.id },
    h("div", { class: "ov-item" }, row.item.title),
    h("div", { class: `mono small${row.itemOver ? " over" : ""}`, "data-testid": "item-timer", "data-over": String(row.itemOver) },
      row.itemOver ? fmt("%(time)s, over time", { time: timer }) : timer));
}

function hallsCell(row) {
  const { halls } = row;
  return h("td", { class: "ov-halls", "data-testid": "halls" },
    h("div", {},
      h("span", { class: `dot ${halls.connected ? "on" : "off"}` }),
      h("span", { "data-testid": "connected", "data-connected": halls.connected, "data-total": halls.total },
        fmt("%(connected)s of %(total)s connected", { connected: halls.connected, total: halls.total })),
      halls.never && row.phase !== "ended"
        ? h("span", { class: "muted small" }, " · ", fmt("%(count)s not yet", { count: halls.never }))
        : null),
    halls.lost.length
      ? h("ul", { class: "ov-lost", "data-testid": "lost" },
        ...halls.lost.map((hall) => h("li", {
          "data-hall": hall.id,
          "data-long": String(hall.long),
          class: hall.long ? "long" : "",
        }, hall.name, " ", h("span", { class: "mono" }, fmt("lost %(time)s", { time: minutes(hall.seconds) })))))
      : null);
}

function speakingCell(speaking) {
  if (!speaking) return h("td", { class: "muted", "data-testid": "speaking" }, "–");
  const uneven = speaking.spread > SPREAD_NOTICE_SECONDS;
  const detail = speaking.candidates.map((c) => `${c.name}: ${minutes(c.seconds)}`).join("\n");
  return h("td", { "data-testid": "speaking", title: detail, "data-spread": Math.round(speaking.spread) },
    h("div", { class: "mono small" }, fmt("%(min)s – %(max)s", { min: minutes(speaking.min), max: minutes(speaking.max) })),
    h("div", { class: `small${uneven ? " ov-uneven" : " muted"}` },
      fmt("spread %(spread)s · %(count)s candidates", { spread: minutes(speaking.spread), count: speaking.candidates.length })));
}

bound("only-problems").addEventListener("change", render);
bound("sort").addEventListener("change", render);
for (const conference of conferences) conference.stream.start();
render();
// Durations (lost halls, timers, lateness) move with the clock between events.
setInterval(render, 1000);
window.__overview = { conferences, serverNow }; // for tests and diagnosis
