// The web reader of Kids Story Agent: write an idea, watch the story being made, read it page
// by page. Plain ES module, no build step. It talks to the HTTP API described in docs/api.md.
//
// Where the API is: the `api` query parameter (?api=https://.../dev/), else config.json next to
// this page ({"api": "..."}, written by the CDK deployment on AWS), else the folder above this
// page (the API serves the reader at /reader/, so that is the API itself).

const POLL_MS = 1000;
const LIST_PAGE = 10;
const STAGE_WORDS = {
  queued: "Waiting for its turn",
  writing: "Writing the story",
  illustrating: "Drawing the pictures",
  assembling: "Putting the book together",
  done: "Done",
};
const FIELD_NAMES = {
  prompt: "Your story idea",
  age_group: "Age group",
  num_illustrations: "Number of pictures",
  generate_videos: "Make short videos too",
  generate_images: "Pictures",
};
const FIELD_ERRORS = {
  prompt: "prompt-error",
  age_group: "age-group-error",
  num_illustrations: "illustrations-error",
};
const FIELD_INPUTS = { prompt: "prompt", age_group: "age-group", num_illustrations: "illustrations" };

const $ = (id) => document.getElementById(id);

const state = {
  api: "",
  story: null,
  page: 0,
  listShown: 0,
  following: 0, // bumped to stop an older poll loop
  submitBlockedUntil: 0,
};

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, message, { fields = {}, retryAfter = null } = {}) {
    super(message);
    this.status = status;
    this.fields = fields; // field name -> message, for 422
    this.retryAfter = retryAfter; // seconds, for 429
  }
}

async function findApi() {
  const fromQuery = new URLSearchParams(location.search).get("api");
  if (fromQuery) return asBase(fromQuery);
  try {
    const response = await fetch("config.json", { cache: "no-cache" });
    if (response.ok) {
      const config = await response.json();
      if (config && typeof config.api === "string" && config.api) return asBase(config.api);
    }
  } catch {
    // no config: the API is where the page came from
  }
  return new URL("../", location.href).href;
}

function asBase(url) {
  const base = new URL(url, location.href);
  if (base.protocol !== "https:" && base.protocol !== "http:") {
    throw new Error(`The API address must start with https:// (got ${url})`);
  }
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  base.search = "";
  base.hash = "";
  return base.href;
}

// A key is kept per API, so that a link with another ?api= never receives it.
const keyName = () => `kidstory.apiKey ${state.api}`;
const storedKey = () => localStorage.getItem(keyName()) || "";

async function call(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  const key = storedKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(new URL(path, state.api), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "We could not reach the story server. Check the connection and try again.");
  }
  if (response.ok) return response.status === 204 ? null : response.json();
  let detail = null;
  try {
    detail = (await response.json()).detail;
  } catch {
    // not JSON: the status says enough
  }
  throw errorFrom(response, detail, Boolean(key));
}

function errorFrom(response, detail, sentKey) {
  const status = response.status;
  const said = typeof detail === "string" ? detail : "";
  if (status === 401) {
    return new ApiError(
      401,
      sentKey
        ? "The story server did not accept this API key. Check the key, or ask for a new one."
        : "The story server needs an API key. Type your key in the API key box and try again.",
    );
  }
  if (status === 422 && Array.isArray(detail)) {
    const fields = {};
    const lines = [];
    for (const issue of detail) {
      const loc = Array.isArray(issue.loc) ? issue.loc : [];
      const field = loc.length > 1 ? String(loc[loc.length - 1]) : "";
      let text;
      if (issue.type === "content_policy") {
        text = `We can't make a children's story from this idea: ${issue.msg}`;
      } else {
        text = FIELD_NAMES[field] ? `${FIELD_NAMES[field]}: ${friendly(issue)}` : friendly(issue);
      }
      if (FIELD_ERRORS[field]) fields[field] = text;
      else lines.push(text);
    }
    const marked = Object.keys(fields).map((field) => `“${FIELD_NAMES[field]}”`);
    if (marked.length) lines.unshift(`Please look at the message under ${marked.join(" and ")}.`);
    return new ApiError(422, lines.join(" "), { fields });
  }
  if (status === 429) {
    const header = Number.parseInt(response.headers.get("Retry-After") || "", 10);
    const retryAfter = Number.isFinite(header) ? header : null;
    const when = retryAfter === null ? "in a little while" : `in ${duration(retryAfter)}`;
    const why = said ? ` (${said})` : "";
    return new ApiError(
      429,
      `You have asked for many stories in a short time${why}. Please try again ${when}.`,
      { retryAfter },
    );
  }
  if (status === 404) return new ApiError(404, said || "We could not find that story.");
  if (status === 409) return new ApiError(409, said || "That story is still being made.");
  if (status === 413) return new ApiError(413, "That idea is too long to send. Please make it shorter.");
  if (status === 503) {
    return new ApiError(503, "The story workshop could not start just now. Please try again in a minute.");
  }
  if (status >= 500) {
    return new ApiError(status, `Something went wrong on the story server (error ${status}). Please try again.`);
  }
  return new ApiError(status, said || `The story server answered with error ${status}.`);
}

function friendly(issue) {
  switch (issue.type) {
    case "string_too_short":
    case "missing":
      return "please fill this in.";
    case "greater_than_equal":
    case "less_than_equal":
    case "int_parsing":
    case "int_type":
      return "please choose a number from 1 to 10.";
    default:
      return issue.msg || "this is not right.";
  }
}

function duration(seconds) {
  if (seconds < 90) return `about ${Math.max(seconds, 1)} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `about ${minutes} minutes`;
  return `about ${Math.round(minutes / 60)} hours`;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function mediaUrl(url) {
  const parsed = new URL(url, state.api);
  return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : "";
}

// ---------------------------------------------------------------- messages

function show(element, text, kind = "error") {
  element.textContent = text;
  element.dataset.kind = kind;
  element.hidden = !text;
}

function clearFieldErrors() {
  for (const [field, id] of Object.entries(FIELD_ERRORS)) {
    show($(id), "");
    $(FIELD_INPUTS[field]).removeAttribute("aria-invalid");
  }
}

function showFieldErrors(fields) {
  let first = null;
  for (const [field, text] of Object.entries(fields)) {
    show($(FIELD_ERRORS[field]), text);
    const input = $(FIELD_INPUTS[field]);
    input.setAttribute("aria-invalid", "true");
    first ??= input;
  }
  return first;
}

// ---------------------------------------------------------------- writing an idea

async function submitIdea(event) {
  event.preventDefault();
  const button = $("submit");
  if (button.getAttribute("aria-disabled") === "true") return;
  const waiting = Math.ceil((state.submitBlockedUntil - Date.now()) / 1000);
  if (waiting > 0) {
    show($("form-message"), `Please wait ${duration(waiting)} before asking for another story.`);
    return;
  }
  clearFieldErrors();
  show($("form-message"), "");
  saveKey();
  const pictures = $("illustrations").value.trim();
  const body = {
    prompt: $("prompt").value,
    age_group: $("age-group").value,
    num_illustrations: /^\d+$/.test(pictures) ? Number(pictures) : pictures, // the API says what is wrong
    generate_images: true,
    generate_videos: $("videos").checked,
  };
  button.setAttribute("aria-disabled", "true");
  button.textContent = "Sending your idea…";
  try {
    const accepted = await call("api/v1/stories/generate", { method: "POST", body });
    location.hash = `job=${encodeURIComponent(accepted.job_id)}`;
  } catch (error) {
    show($("form-message"), error.message);
    if (error.retryAfter) state.submitBlockedUntil = Date.now() + error.retryAfter * 1000;
    const field = showFieldErrors(error.fields || {});
    if (field && error.status === 422) field.focus();
  } finally {
    button.removeAttribute("aria-disabled");
    button.textContent = "Make my story";
  }
}

function saveKey() {
  const key = $("api-key").value.trim();
  if (key) localStorage.setItem(keyName(), key);
  else localStorage.removeItem(keyName());
}

// ---------------------------------------------------------------- progress

function progressPercent(job) {
  const p = job.progress || {};
  if (job.status === "completed" || p.stage === "done") return 100;
  const total = (p.images_total || 0) + (p.videos_total || 0);
  const made = (p.images_done || 0) + (p.videos_done || 0);
  switch (p.stage) {
    case "writing":
      return 15;
    case "illustrating":
      return 25 + Math.round((65 * (total ? made : 1)) / (total || 1));
    case "assembling":
      return 95;
    default:
      return 5;
  }
}

function progressWords(job) {
  const p = job.progress || {};
  if (job.status === "completed") return "Done! Your story is ready.";
  if (job.status === "failed") return "The story could not be finished.";
  const parts = [];
  if (p.images_total) parts.push(`${p.images_done} of ${p.images_total} pictures`);
  if (p.videos_total) parts.push(`${p.videos_done} of ${p.videos_total} videos`);
  const stage = STAGE_WORDS[p.stage] || "Working";
  return parts.length ? `${stage}: ${parts.join(", ")}` : `${stage}…`;
}

function showProgress(job) {
  const bar = $("progress-bar");
  const percent = progressPercent(job);
  bar.value = percent;
  bar.setAttribute("aria-valuenow", String(percent));
  bar.setAttribute("aria-valuetext", progressWords(job));
  bar.dataset.stage = job.status === "completed" ? "done" : (job.progress || {}).stage || "queued";
  $("progress-text").textContent = progressWords(job);
}

async function follow(jobId) {
  const run = ++state.following;
  $("progress-section").hidden = false;
  show($("job-message"), "");
  showProgress({ status: "pending", progress: { stage: "queued" } });
  let failures = 0;
  while (run === state.following) {
    let job;
    try {
      job = await call(`api/v1/stories/jobs/${encodeURIComponent(jobId)}`);
      failures = 0;
    } catch (error) {
      if (run !== state.following) return;
      if (error.status === 429 || error.status === 0 || error.status >= 500) {
        failures += 1;
        if (failures <= 5) {
          await sleep(error.retryAfter ? error.retryAfter * 1000 : POLL_MS * 2 ** failures);
          continue;
        }
      }
      show($("job-message"), error.message);
      return;
    }
    if (run !== state.following) return;
    showProgress(job);
    if (job.status === "completed") {
      loadList();
      location.hash = `story=${encodeURIComponent(job.story_id)}`;
      return;
    }
    if (job.status === "failed") {
      show($("job-message"), `Sorry, this story could not be finished: ${job.error || "unknown error"}`);
      return;
    }
    await sleep(POLL_MS);
  }
}

// ---------------------------------------------------------------- the story list

async function loadList({ more = false } = {}) {
  const list = $("story-list");
  const offset = more ? state.listShown : 0;
  $("list-status").textContent = "Loading your stories…";
  let answer;
  try {
    answer = await call(`api/v1/stories?limit=${LIST_PAGE}&offset=${offset}`);
  } catch (error) {
    $("list-status").textContent =
      error.status === 401 ? "Type your API key above to see your stories." : error.message;
    return;
  }
  if (!more) list.replaceChildren();
  for (const story of answer.stories) list.append(storyItem(story));
  state.listShown = offset + answer.stories.length;
  $("list-status").textContent = answer.total
    ? `${answer.total} ${answer.total === 1 ? "story" : "stories"}.`
    : "No stories yet. Write an idea above to make your first one.";
  $("more-stories").hidden = state.listShown >= answer.total;
}

function storyItem(story) {
  const item = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "story-link";
  button.dataset.storyId = story.id;
  const title = document.createElement("span");
  title.className = "story-link-title";
  title.textContent = story.title;
  const meta = document.createElement("span");
  meta.className = "story-link-meta";
  const made = new Date(story.created_at);
  const pictures = `${story.num_images} ${story.num_images === 1 ? "picture" : "pictures"}`;
  meta.textContent = `Ages ${story.age_group} · ${pictures} · ${made.toLocaleDateString(undefined, {
    day: "numeric",
    month: "short",
    year: "numeric",
  })}`;
  const idea = document.createElement("span");
  idea.className = "story-link-idea";
  idea.textContent = `“${story.prompt}”`;
  button.append(title, meta, idea);
  button.addEventListener("click", () => {
    location.hash = `story=${encodeURIComponent(story.id)}`;
  });
  item.append(button);
  return item;
}

// ---------------------------------------------------------------- reading

async function openStory(storyId, page) {
  let story = state.story && state.story.id === storyId ? state.story : null;
  if (!story) {
    try {
      story = await call(`api/v1/stories/${encodeURIComponent(storyId)}`);
    } catch (error) {
      showHome();
      show($("form-message"), `We could not open that story. ${error.message}`);
      return;
    }
  }
  state.story = story;
  const pages = story.pages && story.pages.length ? story.pages : [story.content];
  story.pages = pages;
  const byOrder = (a, b) => a.display_order - b.display_order;
  story.images.sort(byOrder);
  story.videos.sort(byOrder);
  for (const image of story.images) new Image().src = mediaUrl(image.image_url); // page turns are instant

  $("home-view").hidden = true;
  $("story-view").hidden = false;
  document.title = `${story.title} · Story reader`;
  $("story-title").textContent = story.title;
  const level = story.readability ? ` · reading level: grade ${story.readability.grade_level}` : "";
  $("story-meta").textContent = `For ages ${story.age_group}${level}`;
  show($("story-notice"), story.notice || "", "note");
  showPage(Math.min(Math.max(page, 0), pages.length - 1));
  window.scrollTo(0, 0);
  $("story-title").focus({ preventScroll: true });
}

// Which page a picture or clip goes with: spread evenly from the first page to the last, as the
// scenes are planned.
function pageOf(index, count, pages) {
  return count <= 1 ? 0 : Math.round((index * (pages - 1)) / (count - 1));
}

function showPage(number) {
  const story = state.story;
  const pages = story.pages;
  state.page = number;
  const media = $("page-media");
  media.replaceChildren();
  story.images.forEach((image, index) => {
    if (pageOf(index, story.images.length, pages.length) !== number) return;
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = mediaUrl(image.image_url);
    img.alt = image.scene_description || `Picture ${index + 1} of the story`;
    img.decoding = "async";
    figure.append(img);
    media.append(figure);
  });
  story.videos.forEach((video, index) => {
    if (pageOf(index, story.videos.length, pages.length) !== number) return;
    const figure = document.createElement("figure");
    const clip = document.createElement("video");
    clip.src = mediaUrl(video.video_url);
    clip.controls = true;
    clip.preload = "metadata";
    clip.playsInline = true;
    const words = video.scene_description || `Video ${index + 1} of the story`;
    clip.setAttribute("aria-label", `Video: ${words}`);
    const caption = document.createElement("figcaption");
    caption.textContent = `Video: ${words}`;
    figure.append(clip, caption);
    media.append(figure);
  });
  $("page").classList.toggle("text-only", media.childElementCount === 0);
  $("page-text").textContent = pages[number];
  $("page-counter").textContent = `Page ${number + 1} of ${pages.length}`;
  setEnabled($("previous"), number > 0);
  setEnabled($("next"), number < pages.length - 1);
  history.replaceState(null, "", `#story=${encodeURIComponent(story.id)}&page=${number + 1}`);
}

// aria-disabled instead of disabled: a focused button that becomes disabled would drop the focus.
function setEnabled(button, enabled) {
  if (enabled) button.removeAttribute("aria-disabled");
  else button.setAttribute("aria-disabled", "true");
}

function turn(step) {
  if (!state.story) return;
  const next = state.page + step;
  if (next < 0 || next >= state.story.pages.length) return;
  showPage(next);
  if ($("story-view").getBoundingClientRect().top < 0) $("story-view").scrollIntoView({ block: "start" });
}

function onKey(event) {
  if ($("story-view").hidden || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
  if (event.target.closest && event.target.closest("input, textarea, select, video, [contenteditable]")) return;
  if (event.key === "ArrowRight") {
    event.preventDefault();
    turn(1);
  } else if (event.key === "ArrowLeft") {
    event.preventDefault();
    turn(-1);
  }
}

function showHome() {
  $("story-view").hidden = true;
  $("home-view").hidden = false;
  document.title = "Story reader · Kids Story Agent";
}

// ---------------------------------------------------------------- where we are: the URL's hash

function route() {
  const params = new URLSearchParams(location.hash.slice(1));
  const storyId = params.get("story");
  const jobId = params.get("job");
  if (storyId) {
    state.following += 1;
    openStory(storyId, Number.parseInt(params.get("page") || "1", 10) - 1);
    return;
  }
  const wasReading = !$("story-view").hidden;
  showHome();
  if (jobId) {
    follow(jobId);
  } else if (wasReading) {
    $("list-heading").focus();
  }
}

async function start() {
  try {
    state.api = await findApi();
  } catch (error) {
    show($("form-message"), error.message);
    return;
  }
  if (new URL(state.api).origin !== location.origin) {
    $("api-origin").textContent = `Story server: ${state.api}`;
  }
  $("api-key").value = storedKey();
  $("idea-form").addEventListener("submit", submitIdea);
  $("api-key").addEventListener("change", () => {
    saveKey();
    loadList();
  });
  $("forget-key").addEventListener("click", () => {
    $("api-key").value = "";
    saveKey();
    show($("form-message"), "The key is forgotten on this browser.", "info");
    loadList();
  });
  $("refresh-list").addEventListener("click", () => loadList());
  $("more-stories").addEventListener("click", () => loadList({ more: true }));
  $("previous").addEventListener("click", () => turn(-1));
  $("next").addEventListener("click", () => turn(1));
  $("back").addEventListener("click", () => {
    location.hash = "";
  });
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", route);
  document.body.dataset.ready = "true";
  route();
  loadList();
}

start();
