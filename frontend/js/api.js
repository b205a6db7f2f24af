// Calls to the JSON API, with the hall's join link or the session's CSRF token.
import { _ } from "./i18n.js";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

// The server's `message` is already in the page's language; a body without one (a proxy's
// error page, a schema refusal with its list of details) gets a sentence of ours.
function errorMessage(status, body) {
  if (typeof body?.message === "string" && body.message) return body.message;
  if (typeof body?.detail === "string" && body.detail) return body.detail;
  if (status === 422) return _("Some of what was entered is not valid. Check it and try again.");
  return _("The server could not do this.");
}

export class ApiError extends Error {
  constructor(status, body) {
    super(errorMessage(status, body));
    this.status = status;
    this.body = body;
  }

  // Status 0: the request never got an answer (no network, a timeout). Worth trying again,
  // as are the server's own failures; a refusal (4xx) is not, except a rate limit later.
  get retryable() {
    return this.status === 0 || this.status === 408 || this.status >= 500;
  }

  // Seconds to wait, for a rate limit (429) that says so.
  get retryAfter() {
    const seconds = Number(this.body?.detail?.retry_after);
    return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
  }
}

// `headers`: extra headers for every call, an object or a function returning one (phones
// send their X-Device-Id). `timeout`: milliseconds before a call counts as failed (0: none);
// a call's own options may override both.
export function apiClient({ base, link = null, headers: extraHeaders = null, timeout = 0 }) {
  async function call(method, path, body, options = {}) {
    const headers = { Accept: "application/json" };
    if (link) headers["X-Join-Link"] = link;
    else headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    Object.assign(
      headers,
      typeof extraHeaders === "function" ? extraHeaders() : extraHeaders,
      options.headers,
    );
    const limit = options.timeout ?? timeout;
    const controller = limit > 0 && typeof AbortController === "function" ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), limit) : null;
    let response;
    let data = null;
    try {
      response = await fetch(base + path, {
        method,
        headers,
        credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller?.signal,
      });
      if (response.headers.get("content-type")?.includes("json")) data = await response.json();
    } catch (error) {
      // No answer, a timeout, or the answer broke off: the server may or may not have acted.
      throw new ApiError(0, { message: _("No connection to the server. Try again in a moment.") });
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }
  return {
    get: (path, options) => call("GET", path, undefined, options),
    post: (path, body = {}, options) => call("POST", path, body, options),
  };
}
