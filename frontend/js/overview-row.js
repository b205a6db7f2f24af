// The organiser's overview: one conference's state (its staff stream's snapshot and patches)
// reduced to the few facts of its row. Pure functions of the state and the server's clock, so
// that what the row says, "lost for 40 s" included, follows from the record alone.
import { runningItem } from "./format.js";

// Question statuses counted as approved: approved and everything after it (meetings/questions/
// state.py, _APPROVED_OR_LATER).
const APPROVED = new Set(["approved", "on_air", "answered"]);
// A conference counts as running late this long after its scheduled start (docs/rounds.md).
export const LATE_GRACE_SECONDS = 300;

export function phaseOf(status) {
  if (status === "live") return "live";
  if (status === "ended" || status === "archived") return "ended";
  return "not-started";
}

const seconds = (from, to) => (to - Date.parse(from)) / 1000;

// now: the server's clock (ms); lostSeconds: how long a lost hall may stay down unmarked.
export function summarise(state, now, lostSeconds) {
  const phase = phaseOf(state.meeting?.status);
  const halls = Object.values(state.halls || {}).sort((a, b) => a.position - b.position || a.id - b.id);
  const presence = state.presence || {};
  const lostSince = state.presence_lost || {};
  const connected = halls.filter((hall) => presence[String(hall.id)]);
  const lost = halls
    .filter((hall) => !presence[String(hall.id)] && lostSince[String(hall.id)])
    .map((hall) => {
      const down = Math.max(0, seconds(lostSince[String(hall.id)].since, now));
      return { id: hall.id, name: hall.name, seconds: down, long: phase !== "ended" && down > lostSeconds };
    })
    .sort((a, b) => b.seconds - a.seconds);
  const attendance = halls.reduce((sum, hall) => sum + (hall.attendance || 0), 0);
  const reported = halls.filter((hall) => hall.attendance !== null && hall.attendance !== undefined).length;

  const questions = Object.values(state.moderation || {});
  const counts = {
    received: questions.length,
    approved: questions.filter((q) => APPROVED.has(q.status)).length,
    answered: questions.filter((q) => q.status === "answered").length,
  };

  const item = runningItem(state);
  const itemOver = Boolean(item && item.allowance_seconds > 0 && seconds(item.started_at, now) > item.allowance_seconds);

  return {
    phase,
    status: state.meeting?.status,
    item,
    itemOver,
    halls: { total: halls.length, connected: connected.length, lost, never: halls.length - connected.length - lost.length },
    attendance,
    reported,
    questions: counts,
    speaking: speakingSpread(state, now),
    late: lateness(state, phase, now),
    problems: { lost: lost.filter((hall) => hall.long).length, late: Boolean(lateness(state, phase, now)), over: itemOver },
  };
}

// The conference's start: the first agenda item started (the meeting's own opening is not in
// its state). Late: not opened, or nothing started, past the scheduled start and its grace;
// or the first item started after them.
export function lateness(state, phase, now) {
  const scheduled = Date.parse(state.meeting?.scheduled_start);
  if (Number.isNaN(scheduled) || phase === "ended") return null;
  const starts = Object.values(state.agenda || {}).map((item) => item.started_at).filter(Boolean).map(Date.parse);
  const started = starts.length ? Math.min(...starts) : null;
  const grace = LATE_GRACE_SECONDS * 1000;
  if (started !== null) {
    return started - scheduled > grace ? { kind: "started-late", seconds: (started - scheduled) / 1000 } : null;
  }
  if (now - scheduled > grace) {
    return { kind: phase === "live" ? "nothing-started" : "not-opened", seconds: (now - scheduled) / 1000 };
  }
  return null;
}

// Each candidate's speaking time as meetings/questions/speaking.py counts it: their
// presentations (a running one up to now) and their answers, from on air to answered.
export function speakingSpread(state, now) {
  const times = new Map(
    Object.values(state.candidates || {})
      .sort((a, b) => a.position - b.position || a.id - b.id)
      .map((candidate) => [candidate.id, { id: candidate.id, name: candidate.name, seconds: 0 }]),
  );
  for (const item of Object.values(state.agenda || {})) {
    const time = times.get(item.candidate_id);
    if (item.kind !== "presentation" || !time || !item.started_at) continue;
    time.seconds += Math.max(0, seconds(item.started_at, item.ended_at ? Date.parse(item.ended_at) : now));
  }
  for (const question of Object.values(state.moderation || {})) {
    const time = times.get(question.answer?.candidate_id);
    if (question.status !== "answered" || !time || !question.on_air_at || !question.answered_at) continue;
    time.seconds += Math.max(0, seconds(question.on_air_at, Date.parse(question.answered_at)));
  }
  const list = [...times.values()];
  if (!list.length) return null;
  const totals = list.map((time) => time.seconds);
  const min = Math.min(...totals);
  const max = Math.max(...totals);
  return { candidates: list, min, max, spread: max - min };
}
