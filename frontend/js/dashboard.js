// The moderators' dashboard: agenda and timers, halls with attendance and kiosk status, the
// live record, the record's publication and minutes, the candidates' equal time, and the
// halls' links.
import { apiClient } from "./api.js";
import { bound, h, pageConfig, setText, toast } from "./dom.js";
import { clock, dateTime, describeEvent, duration, isPublicTwin, itemTimer, runningItem, statusLabel } from "./format.js";
import { _, fmt } from "./i18n.js";
import { MeetingStream } from "./live.js";
import { SpeakingTimes, answerWords, presentationWords } from "./speaking.js";
import { showConnection } from "./status.js";

const config = pageConfig();
const api = apiClient({ base: config.api });
const canModerate = config.viewer.can_moderate;
const isChair = config.viewer.is_chair;
// Staff receive every question change twice (question.* for them, public.* for everyone);
// their feed shows each once.
const seesStaffEvents = config.viewer.audience === "staff";
const FEED_SIZE = 200;
let state = null;

const NEXT_STATUS = {
  draft: [["scheduled", () => _("Schedule")]],
  scheduled: [["live", () => _("Open the conference")]],
  live: [["ended", () => _("End the conference")]],
  ended: [["archived", () => _("Archive")]],
  archived: [],
};

// The statuses in which the chair may publish (meetings.rooms.services.meetings.PUBLISHABLE).
const PUBLISHABLE = new Set(["live", "ended", "archived"]);
const FOLLOW_UP_KINDS = new Set(["written", "referred"]);

const sortBy = (items, key) => Object.values(items || {}).sort((a, b) => a[key] - b[key] || a.id - b.id);

function renderStatus() {
  const status = state.meeting.status;
  const badge = bound("status");
  badge.textContent = statusLabel(status);
  badge.className = `badge status-${status}`;
  const actions = bound("status-actions");
  if (!actions) return;
  actions.replaceChildren(
    ...NEXT_STATUS[status].map(([target, label]) =>
      h("button", {
        type: "button",
        class: target === "ended" ? "danger" : "primary",
        "data-testid": `status-${target}`,
        onclick: () => changeStatus(target),
      }, label()),
    ),
  );
}

async function changeStatus(target) {
  if (target === "ended" && !window.confirm(_("End the conference for every hall?"))) return;
  await act(() => api.post("/status", { status: target }));
}

function renderAgenda() {
  const list = bound("agenda");
  const items = sortBy(state.agenda, "position");
  const candidates = state.candidates || {};
  list.replaceChildren(
    ...items.map((item) => {
      const running = item.started_at && !item.ended_at;
      const done = Boolean(item.ended_at);
      const who = item.candidate_id ? candidates[String(item.candidate_id)]?.name : null;
      const allowance = item.allowance_seconds ? fmt("%(min)s min", { min: Math.round(item.allowance_seconds / 60) }) : "";
      return h("li", { class: `agenda-item${running ? " running" : ""}${done ? " done" : ""}`, "data-item": item.id },
        h("div", { class: "agenda-main" },
          h("span", { class: "agenda-title" }, item.title),
          who && item.kind !== "presentation" ? h("span", { class: "muted" }, who) : null,
          h("span", { class: "muted" }, [allowance, running ? fmt("started %(time)s", { time: clock(item.started_at) }) : "",
            done ? fmt("%(start)s–%(end)s", { start: clock(item.started_at), end: clock(item.ended_at) }) : ""].filter(Boolean).join(" · ")),
        ),
        canModerate && !done ? h("div", { class: "agenda-actions" },
          running
            ? h("button", { type: "button", class: "secondary", onclick: () => act(() => api.post(`/agenda/${item.id}/end`)) }, _("End"))
            : h("button", { type: "button", class: "primary", disabled: state.meeting.status !== "live", onclick: () => act(() => api.post(`/agenda/${item.id}/start`)) }, _("Start")),
        ) : null,
      );
    }),
  );
  const build = document.querySelector('[data-action="build-agenda"]');
  if (build) build.hidden = items.length > 0;
  if (!items.length) list.append(h("li", { class: "muted" }, _("No agenda yet.")));
}

function renderTimer() {
  const item = runningItem(state);
  const timer = itemTimer(item);
  const element = bound("running-timer");
  element.textContent = timer ? `${item.title} · ${timer.text}` : "";
  element.classList.toggle("over", Boolean(timer?.over));
}

// Rows are updated in place, not rebuilt: events keep arriving while the chair types an
// attendance number, and rebuilding the row would blur the field and post the half-typed number.
function renderHalls() {
  const body = bound("halls");
  const halls = sortBy(state.halls, "position");
  const rows = new Map([...body.querySelectorAll("tr[data-hall]")].map((row) => [row.dataset.hall, row]));
  let next = body.firstElementChild;
  for (const hall of halls) {
    const row = rows.get(String(hall.id)) || hallRow(hall.id);
    rows.delete(String(hall.id));
    updateHallRow(row, hall);
    if (row === next) next = next.nextElementSibling;
    else body.insertBefore(row, next);
  }
  for (const stale of rows.values()) stale.remove();
  const total = halls.reduce((sum, hall) => sum + (hall.attendance || 0), 0);
  setText("attendance-total", fmt("%(count)s voters present", { count: total }));
}

function hallRow(hallId) {
  return h("tr", { "data-hall": hallId },
    h("td"), h("td"), h("td", {}, canModerate ? attendanceInput(hallId) : null), h("td", { class: "muted" }));
}

function updateHallRow(row, hall) {
  const [nameCell, kioskCell, countCell, contactCell] = row.cells;
  const connected = Boolean(state.presence?.[String(hall.id)]);
  const contact = state.hall_contacts?.[String(hall.id)];
  nameCell.replaceChildren(hall.name, ...(hall.is_studio ? [h("span", { class: "badge subtle" }, _("studio"))] : []));
  kioskCell.replaceChildren(
    h("span", { class: `dot ${connected ? "on" : "off"}`, title: connected ? _("connected") : _("not connected") }),
    connected ? _("connected") : _("not connected"),
  );
  if (canModerate) {
    const input = countCell.firstElementChild;
    input.setAttribute("aria-label", fmt("Attendance at %(hall)s", { hall: hall.name }));
    if (!input.dataset.editing) input.value = hall.attendance ?? "";
  } else {
    countCell.textContent = hall.attendance ?? "–";
  }
  contactCell.textContent = contact ? [contact.operator_name, contact.operator_phone].filter(Boolean).join(" · ") : "";
}

function attendanceInput(hallId) {
  const input = h("input", { type: "number", min: 0, max: 100000, inputmode: "numeric", class: "small" });
  // While the chair is typing, the number on screen is theirs; once sent (or left), the record's.
  input.addEventListener("input", () => { input.dataset.editing = "true"; });
  input.addEventListener("blur", () => { delete input.dataset.editing; });
  input.addEventListener("change", () => {
    delete input.dataset.editing;
    const count = Number.parseInt(input.value, 10);
    if (Number.isNaN(count)) return;
    act(() => api.post(`/halls/${hallId}/attendance`, { count }));
  });
  return input;
}

// --- the record: publication, the public page, the minutes, follow-ups and clips -----------

function renderRecord() {
  const card = document.querySelector('[data-testid="record-card"]');
  if (!card) return;
  const publishedAt = state.meeting.published_at;
  const badge = bound("published-badge");
  badge.textContent = publishedAt ? _("public") : _("not public");
  badge.classList.toggle("public", Boolean(publishedAt));
  setText("published", publishedAt
    ? fmt("Published on %(date)s: everyone can see the public page, the clips, the minutes and the record.", { date: dateTime(publishedAt) })
    : _("Not published: only the conference's staff can open its public page, clips and minutes."));
  setText("public-link", publishedAt ? _("Open the public page") : _("Preview the public page"));
  const button = document.querySelector('[data-action="publish"]');
  if (button) {
    const publishable = PUBLISHABLE.has(state.meeting.status);
    button.textContent = publishedAt ? _("Unpublish") : _("Publish");
    button.className = publishedAt ? "secondary" : "primary";
    button.disabled = !publishedAt && !publishable;
    setText("publish-hint", !publishedAt && !publishable ? _("The conference can be published once it has started.") : "");
  }
  const questions = Object.values(state.moderation || state.questions || {});
  const waiting = questions.filter((q) => q.status === "answered" && FOLLOW_UP_KINDS.has(q.answer?.kind) && !q.answer?.written_answer).length;
  const count = bound("follow-ups-count");
  count.hidden = waiting === 0;
  count.textContent = fmt("awaiting a written answer: %(count)s", { count: waiting });
  const clips = Object.keys(state.clips || {}).length;
  setText("clips", clips ? fmt("Answers recorded as clips: %(count)s", { count: clips }) : _("No answer clip recorded yet."));
}

async function togglePublished() {
  const published = Boolean(state.meeting.published_at);
  const question = published
    ? _("Withdraw the public page? Only the conference's staff will see it, its clips and its minutes again.")
    : _("Publish this conference? Everyone will see its answered questions, the clips of the answers, the minutes and the record.");
  if (!window.confirm(question)) return;
  await act(() => api.post("/publish", { published: !published }));
}

// --- equal time -----------------------------------------------------------------------------

const speaking = new SpeakingTimes({
  api,
  onChange: () => renderSpeaking(),
  onError: (error) => toast(error.message, "error"),
});

function renderSpeaking() {
  const body = bound("speaking");
  const times = speaking.current(state);
  if (!times) return;
  if (!times.length) {
    body.replaceChildren(h("tr", {}, h("td", { colspan: 4, class: "muted" }, _("This conference has no candidates yet."))));
    setText("speaking-spread", "");
    return;
  }
  body.replaceChildren(...times.map((time) => {
    const share = time.allowance_seconds > 0 ? Math.min(100, (100 * time.presentation_seconds) / time.allowance_seconds) : 0;
    return h("tr", { "data-candidate": time.candidate_id, class: time.speaking ? "speaking" : "" },
      h("td", {}, time.name, time.speaking ? h("span", { class: "badge speaking-now" }, _("speaking")) : null),
      h("td", {},
        h("span", { class: `mono${time.over ? " over" : ""}`, "data-testid": "presentation-time" }, presentationWords(time)),
        time.allowance_seconds > 0
          ? h("span", { class: `time-bar${time.over ? " over" : ""}`, "aria-hidden": "true" }, h("span", { style: { width: `${share.toFixed(1)}%` } }))
          : null),
      h("td", { class: "mono" }, answerWords(time)),
      h("td", { class: "mono strong", "data-testid": "total-time" }, duration(time.total_seconds)),
    );
  }));
  const totals = times.map((time) => time.total_seconds);
  setText("speaking-spread", times.length > 1
    ? fmt("difference: %(time)s", { time: duration(Math.max(...totals) - Math.min(...totals)) })
    : "");
}

const feedItems = new Map();

function addToFeed(event) {
  if (feedItems.has(event.seq) || (seesStaffEvents && isPublicTwin(event.type))) return;
  const item = h("li", { "data-seq": event.seq },
    h("span", { class: "feed-time mono" }, clock(event.created)),
    h("span", { class: "feed-text" }, describeEvent(event, state || {})),
    h("span", { class: "feed-actor muted" }, event.actor),
  );
  feedItems.set(event.seq, item);
  const list = bound("feed");
  const newer = [...list.children].find((child) => Number(child.dataset.seq) < event.seq);
  list.insertBefore(item, newer || null);
  while (list.children.length > FEED_SIZE) {
    feedItems.delete(Number(list.lastElementChild.dataset.seq));
    list.lastElementChild.remove();
  }
}

async function loadFeed() {
  const page = await api.get("/events?newest=true&limit=50");
  page.events.forEach(addToFeed);
}

async function act(request) {
  try {
    return await request();
  } catch (error) {
    toast(error.message, "error");
    return null;
  }
}

function render() {
  if (!state) return;
  renderStatus();
  renderAgenda();
  renderHalls();
  renderTimer();
  renderRecord();
  renderSpeaking();
  setText("seq", fmt("record #%(seq)s", { seq: stream.seq }));
}

function wireLinks() {
  for (const row of document.querySelectorAll('[data-testid="links"] tr[data-hall]')) {
    row.addEventListener("click", async (click) => {
      const button = click.target.closest("button[data-action]");
      if (!button) return;
      const kind = button.dataset.kind;
      const anchor = row.querySelector(`a[data-link="${kind}"]`);
      if (button.dataset.action === "copy") {
        await navigator.clipboard?.writeText(anchor.href);
        toast(_("Link copied."));
      } else if (button.dataset.action === "rotate") {
        if (!window.confirm(_("Replace this link? Anyone using the old one is disconnected at once."))) return;
        const links = await act(() => api.post(`/halls/${row.dataset.hall}/links/${kind}/rotate`));
        if (links) {
          row.querySelector('a[data-link="operator"]').href = links.operator_url;
          row.querySelector('a[data-link="voter"]').href = links.voter_url;
          toast(_("The link was replaced. Reprint the poster if you replaced the voters' link."));
        }
      }
    });
  }
}

const stream = new MeetingStream({
  wsPath: config.ws,
  onState: (newState, event) => {
    const first = state === null;
    state = newState;
    // A snapshot (the first, or after falling behind) may hide changes: ask for the times again.
    if (!event) speaking.refresh(state);
    render();
    if (first) loadFeed().catch((error) => toast(error.message, "error"));
  },
  onEvent: (event, newState) => {
    addToFeed(event);
    speaking.eventApplied(event, newState);
  },
  onStatus: showConnection,
});

document.querySelector('[data-action="build-agenda"]')?.addEventListener("click", () => act(() => api.post("/agenda/default")));
document.querySelector('[data-action="publish"]')?.addEventListener("click", togglePublished);
wireLinks();
setInterval(() => {
  if (!state) return;
  renderTimer();
  renderSpeaking();
}, 1000);
stream.start();
