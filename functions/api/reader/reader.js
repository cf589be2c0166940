// The web reader of Kids Story Agent: write an idea, watch the story being made, read it page
// by page (its text as soon as it is written, the pictures as they are drawn), and have it read
// aloud with each word lit as it is spoken; redraw a page's picture or edit its text, ask for a
// sequel or a version in another language or for other ages, and go between a story's versions
// and a series' books. Plain ES module, no build step. It talks to the HTTP
// API described in docs/api.md.
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
  narration: "Read it aloud",
};
// Each form's fields the API may find fault with (its field name -> the input's id and the id of
// the message under it), and what is said when moderation refuses what was written in it.
const IDEA_REFUSED = "We can't make a children's story from this idea";
const FORMS = {
  idea: {
    refused: IDEA_REFUSED,
    fields: {
      prompt: ["prompt", "prompt-error"],
      age_group: ["age-group", "age-group-error"],
      num_illustrations: ["illustrations", "illustrations-error"],
      language: ["language", "language-error"],
    },
  },
  redraw: {
    refused: "We can't use these instructions in a children's story",
    fields: { instructions: ["redraw-instructions", "redraw-instructions-error"] },
  },
  edit: {
    refused: "We can't use this text in a children's story",
    fields: { text: ["edit-text", "edit-text-error"] },
  },
  sequel: {
    refused: IDEA_REFUSED,
    fields: { prompt: ["sequel-prompt", "sequel-prompt-error"], age_group: ["sequel-age", "sequel-age-error"] },
  },
  version: {
    refused: "We can't make a children's story from this",
    fields: {
      language: ["version-language", "version-language-error"],
      age_group: ["version-age", "version-age-error"],
    },
  },
};
// Languages written right to left, by their primary subtag (as RIGHT_TO_LEFT in models.py).
const RIGHT_TO_LEFT = new Set(["ar", "he", "fa", "ur", "yi", "ps", "sd", "ckb", "dv", "ug"]);
const CHANGE_WORDS = { written: "as first written", regenerated: "redone", edited: "edited" };
const OFFLINE_NARRATION =
  "Offline narration: read aloud by the built-in offline voice, not by an AI model.";
const DONE_SHOWN_MS = 4000; // how long "Done!" stays above a story that was read while being made

const $ = (id) => document.getElementById(id);

const state = {
  api: "",
  story: null,
  page: 0,
  listShown: 0,
  following: 0, // bumped to stop an older poll loop
  submitBlockedUntil: 0,
  words: [], // the page's spoken words: {span, start, end} (ms), in order
  spoken: -1, // the index in `words` of the word lit now
  reading: false, // read-along is on: play this page, then turn and play the next
  frame: 0, // the requestAnimationFrame that follows the narration while it plays
  fetched: new Set(), // the pictures fetched ahead, by id
  changing: false, // a change of the story on screen (one of its pages) is being made
  family: 0, // bumped to drop an older look for the story's parent
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

// `form`: the form whose fields a 422's messages go under (FORMS).
async function call(path, { method = "GET", body, form = "idea" } = {}) {
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
  throw errorFrom(response, detail, Boolean(key), FORMS[form]);
}

function errorFrom(response, detail, sentKey, form) {
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
        text = `${form.refused}: ${issue.msg}`;
      } else {
        const name = fieldName(field, form);
        text = name ? `${name}: ${friendly(issue)}` : friendly(issue);
      }
      if (form.fields[field]) fields[field] = text;
      else lines.push(text);
    }
    const marked = Object.keys(fields).map((field) => `“${fieldName(field, form)}”`);
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

// A field as the form names it (its label), else as the reader names the API's fields.
function fieldName(field, form) {
  const input = form.fields[field] ? $(form.fields[field][0]) : null;
  const label = input && input.labels.length ? input.labels[0].textContent.trim() : "";
  return label || FIELD_NAMES[field] || "";
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
    case "string_pattern_mismatch":
      return "please give a language code, such as en, es or pt-BR.";
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

function clearFieldErrors(form = "idea") {
  for (const [input, error] of Object.values(FORMS[form].fields)) {
    show($(error), "");
    $(input).removeAttribute("aria-invalid");
  }
}

// Each message under its field; the first field at fault, to be focused.
function showFieldErrors(fields, form = "idea") {
  let first = null;
  for (const [field, text] of Object.entries(fields)) {
    const [inputId, errorId] = FORMS[form].fields[field];
    show($(errorId), text);
    const input = $(inputId);
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
    narration: $("narration").checked,
    language: $("language").value.trim() || "en",
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

// `what` the job makes: "story" (a new one), or "page" (a change of one page).
function progressWords(job, what = "story") {
  const p = job.progress || {};
  if (job.status === "completed") return what === "page" ? "Done! The page is changed." : "Done! Your story is ready.";
  if (job.status === "failed") return what === "page" ? "The page could not be changed." : "The story could not be finished.";
  const parts = [];
  if (p.images_total) parts.push(`${p.images_done} of ${p.images_total} pictures`);
  if (p.videos_total) parts.push(`${p.videos_done} of ${p.videos_total} videos`);
  const stage = STAGE_WORDS[p.stage] || "Working";
  return parts.length ? `${stage}: ${parts.join(", ")}` : `${stage}…`;
}

// The same progress on the home view's bar and on the one above a story read while it is made.
function showProgress(job, what = "story") {
  const percent = progressPercent(job);
  const words = progressWords(job, what);
  const stage = job.status === "completed" ? "done" : (job.progress || {}).stage || "queued";
  for (const [barId, textId] of [
    ["progress-bar", "progress-text"],
    ["story-progress-bar", "story-progress-text"],
  ]) {
    const bar = $(barId);
    bar.value = percent;
    bar.setAttribute("aria-valuenow", String(percent));
    bar.setAttribute("aria-valuetext", words);
    bar.dataset.stage = stage;
    $(textId).textContent = words;
  }
}

const transient = (error) => error.status === 429 || error.status === 0 || error.status >= 500;

// Polls a job until it ends or another is followed (state.following moves on from `run`). Each
// look reads the job, then with `read(job)` what goes with it; a transient error is asked again
// after a wait, another is said with `say`. The progress is shown, then `seen(job, read)` says
// whether it is over.
async function pollJob(jobId, run, { read = async () => null, seen, say, what = "story" }) {
  let failures = 0;
  while (run === state.following) {
    let job;
    let extra;
    try {
      job = await call(`api/v1/stories/jobs/${encodeURIComponent(jobId)}`);
      extra = await read(job);
      failures = 0;
    } catch (error) {
      if (run !== state.following) return;
      failures += 1;
      if (transient(error) && failures <= 5) {
        await sleep(error.retryAfter ? error.retryAfter * 1000 : POLL_MS * 2 ** failures);
        continue;
      }
      say(error.message);
      return;
    }
    if (run !== state.following) return;
    showProgress(job, what);
    if (seen(job, extra)) return;
    await sleep(POLL_MS);
  }
}

// Follows a job that makes a new story (from an idea, a sequel or a version). As soon as the
// story's text is written (the job has a story_id), the story is opened, read with ?partial=true:
// its text at once, a placeholder for each picture still being drawn. Polling goes on, filling
// the pictures in as they come, until the story is complete.
async function follow(jobId, page = 0) {
  const run = ++state.following;
  $("progress-section").hidden = false;
  show($("job-message"), "");
  showProgress({ status: "pending", progress: { stage: "queued" } });
  let opened = false; // the story is on screen, being filled in
  const say = (text) => show(opened ? $("story-job-message") : $("job-message"), text);
  const read = async (job) => {
    if (!job.story_id || job.status === "failed") return null;
    try {
      return await call(`api/v1/stories/${encodeURIComponent(job.story_id)}?partial=true`);
    } catch (error) {
      if (error.status !== 404) throw error; // 404: not readable yet, or just failed
      return null;
    }
  };
  const seen = (job, story) => {
    if (job.status === "failed") {
      say(`Sorry, this story could not be finished: ${job.error || "unknown error"}`);
      if (opened) markUnfinished();
      return true;
    }
    if (story) {
      const p = job.progress || {};
      story.expected = { images: p.images_total || 0, videos: p.videos_total || 0 };
      // read just after the job, the story may be done before the job said so: the next look
      story.complete = job.status === "completed" && story.complete !== false;
      if (!opened) {
        opened = true;
        showStory(story, page);
      } else {
        refreshStory(story);
      }
      if (story.complete) {
        loadList();
        return true;
      }
    } else if (job.status === "completed") {
      loadList(); // an API that cannot read a story before it is complete
      location.hash = `story=${encodeURIComponent(job.story_id)}`;
      return true;
    }
    return false;
  };
  await pollJob(jobId, run, { read, seen, say });
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
  const known = state.story && state.story.id === storyId && state.story.complete !== false;
  let story = known ? state.story : null;
  if (!story) {
    try {
      story = await call(`api/v1/stories/${encodeURIComponent(storyId)}`);
    } catch (error) {
      showHome();
      show($("form-message"), `We could not open that story. ${error.message}`);
      return;
    }
  }
  showStory(story, page);
}

// Sorts what the API sent and fetches its pictures ahead, so that page turns are instant.
function prepare(story) {
  story.pages = story.pages && story.pages.length ? story.pages : [story.content];
  const byOrder = (a, b) => a.display_order - b.display_order;
  story.images.sort(byOrder);
  story.videos.sort(byOrder);
  for (const image of story.images) {
    if (state.fetched.has(image.id)) continue;
    state.fetched.add(image.id);
    new Image().src = mediaUrl(image.image_url);
  }
}

function showStory(story, page) {
  if (!state.story || state.story.id !== story.id) stopReading();
  prepare(story);
  state.story = story;
  $("home-view").hidden = true;
  $("story-view").hidden = false;
  document.title = `${story.title} · Story reader`;
  $("story-title").textContent = story.title;
  for (const id of ["story-title", "page-text", "edit-text"]) writtenIn($(id), story.language);
  $("story-meta").textContent = storyMeta(story);
  show($("story-notice"), story.notice || "", "note");
  show($("story-job-message"), "");
  const narration = story.narration;
  $("read-along").hidden = !narration;
  show($("narration-notice"), narration && narration.offline ? OFFLINE_NARRATION : "", "note");
  $("story-view").dataset.complete = String(story.complete !== false);
  $("story-progress").hidden = story.complete !== false;
  for (const name of ["sequel", "version"]) closeTool(name, false);
  showTools(story);
  showFamily(story);
  showPage(Math.min(Math.max(Number.isFinite(page) ? page : 0, 0), story.pages.length - 1));
  window.scrollTo(0, 0);
  $("story-title").focus({ preventScroll: true });
}

// A newer read of the story on screen, while it is being made: the pictures, clips and narration
// made since are filled in where the reader is, without turning the page or moving the focus.
function refreshStory(story) {
  prepare(story);
  const hadNarration = Boolean(narrationOf(state.story, state.page));
  state.story = story;
  showCompleteness(story);
  fillMedia(state.page);
  if (!hadNarration && narrationOf(story, state.page)) {
    $("read-along").hidden = false;
    show($("narration-notice"), story.narration.offline ? OFFLINE_NARRATION : "", "note");
    showWords(state.page);
    loadNarration(state.page);
  }
  remember();
}

function showCompleteness(story) {
  const complete = story.complete !== false;
  $("story-view").dataset.complete = String(complete);
  showTools(story);
  if (complete && state.story === story) showPageTools(state.page); // its pictures are all made
  if (!complete) {
    $("story-progress").hidden = false;
  } else {
    setTimeout(() => {
      if (state.story && state.story.id === story.id) $("story-progress").hidden = true;
    }, DONE_SHOWN_MS); // "Done!" stays long enough to be read and heard
  }
}

// Which page a picture or clip goes with: spread evenly from the first page to the last, as the
// scenes are planned.
function pageOf(index, count, pages) {
  return count <= 1 ? 0 : Math.round((index * (pages - 1)) / (count - 1));
}

// The pictures and clips of a page, each in its place (display_order), made or still to come. How
// many are coming is known from the job's progress while the story is being made.
function mediaSlots(story, number) {
  const slots = [];
  for (const kind of ["images", "videos"]) {
    const made = story[kind];
    const expected = (story.expected && story.expected[kind]) || 0;
    const total = Math.max(expected, ...made.map((item) => item.display_order + 1), made.length);
    for (let slot = 0; slot < total; slot += 1) {
      if (pageOf(slot, total, story.pages.length) !== number) continue;
      const item = made.find((one) => one.display_order === slot) || null;
      slots.push({ kind, slot, item, key: `${kind}-${slot}`, asset: item ? item.id : "" });
    }
  }
  return slots;
}

function mediaFigure({ kind, slot, item, key, asset }) {
  const figure = document.createElement("figure");
  figure.dataset.key = key;
  figure.dataset.asset = asset;
  if (!item) {
    const waiting = document.createElement("div");
    waiting.className = "media-coming";
    waiting.textContent = comingWords(kind, slot);
    if (!state.story.unfinished) figure.className = "coming";
    figure.append(waiting);
  } else if (kind === "images") {
    const img = document.createElement("img");
    img.src = mediaUrl(item.image_url);
    img.alt = item.scene_description || `Picture ${slot + 1} of the story`;
    img.decoding = "async";
    figure.append(img);
  } else {
    const clip = document.createElement("video");
    clip.src = mediaUrl(item.video_url);
    clip.controls = true;
    clip.preload = "metadata";
    clip.playsInline = true;
    const words = item.scene_description || `Video ${slot + 1} of the story`;
    clip.setAttribute("aria-label", `Video: ${words}`);
    const caption = document.createElement("figcaption");
    caption.textContent = `Video: ${words}`;
    figure.append(clip, caption);
  }
  return figure;
}

// Puts the page's pictures and clips in place, replacing only what changed (a placeholder whose
// picture has come), so that a picture already shown or a clip playing is left alone.
function fillMedia(number) {
  const media = $("page-media");
  const slots = mediaSlots(state.story, number);
  const shown = [...media.children];
  const sameSlots =
    shown.length === slots.length && slots.every((slot, i) => shown[i].dataset.key === slot.key);
  if (!sameSlots) {
    media.replaceChildren(...slots.map(mediaFigure));
  } else {
    slots.forEach((slot, i) => {
      if (shown[i].dataset.asset !== slot.asset) shown[i].replaceWith(mediaFigure(slot));
    });
  }
  $("page").classList.toggle("text-only", slots.length === 0);
}

function comingWords(kind, slot) {
  const what = kind === "images" ? `Picture ${slot + 1}` : `Video ${slot + 1}`;
  if (state.story.unfinished) return `${what} could not be made.`;
  return kind === "images" ? `${what} is being drawn…` : `${what} is being made…`;
}

// When the story could not be finished, the pictures still to come never will.
function markUnfinished() {
  state.story.unfinished = true;
  $("page-media").replaceChildren();
  fillMedia(state.page);
  $("story-progress").hidden = false;
}

function showPage(number) {
  const story = state.story;
  const pages = story.pages;
  state.page = number;
  $("page-media").replaceChildren();
  fillMedia(number);
  showWords(number);
  loadNarration(number);
  showPageTools(number);
  $("page-counter").textContent = `Page ${number + 1} of ${pages.length}`;
  setEnabled($("previous"), number > 0);
  setEnabled($("next"), number < pages.length - 1);
  remember();
}

// The address of what is on screen: a story still being made is followed by its job's id, so
// that reloading the page goes on following it.
function remember() {
  const story = state.story;
  const place =
    story.complete === false && story.job_id
      ? `job=${encodeURIComponent(story.job_id)}`
      : `story=${encodeURIComponent(story.id)}`;
  history.replaceState(null, "", `#${place}&page=${state.page + 1}`);
}

function storyMeta(story) {
  const level = story.readability ? ` · reading level: grade ${story.readability.grade_level}` : "";
  return `For ages ${story.age_group}${level} · ${languageName(story.language)}`;
}

// The story's words are marked with its language, and written right to left where it is.
function writtenIn(element, language) {
  const tag = language || "en";
  element.lang = tag;
  element.dir = RIGHT_TO_LEFT.has(tag.split("-")[0].toLowerCase()) ? "rtl" : "ltr";
}

function languageName(tag) {
  try {
    return new Intl.DisplayNames(["en"], { type: "language" }).of(tag || "en") || tag;
  } catch {
    return tag; // not a tag the browser knows
  }
}

// ---------------------------------------------------------------- changing the story

// The disclosures of the story view: a button that opens a panel (a form, or a page's versions),
// and the field focused when it opens. One panel of a group is open at a time.
const TOOLS = {
  redraw: { toggle: "redraw-toggle", panel: "redraw-form", focus: "redraw-instructions" },
  edit: { toggle: "edit-toggle", panel: "edit-form", focus: "edit-text" },
  history: { toggle: "history-toggle", panel: "page-history", focus: null },
  sequel: { toggle: "sequel-toggle", panel: "sequel-form", focus: "sequel-prompt" },
  version: { toggle: "version-toggle", panel: "version-form", focus: "version-language" },
};
const PAGE_TOOLS = ["redraw", "edit", "history"];
const FORM_TOOLS = ["redraw", "edit", "sequel", "version"];

function toggleTool(name) {
  if ($(TOOLS[name].panel).hidden) openTool(name);
  else closeTool(name);
}

function openTool(name) {
  const tool = TOOLS[name];
  if ($(tool.toggle).getAttribute("aria-disabled") === "true") return;
  const group = PAGE_TOOLS.includes(name) ? PAGE_TOOLS : ["sequel", "version"];
  for (const other of group) if (other !== name) closeTool(other, false);
  if (FORM_TOOLS.includes(name)) {
    clearFieldErrors(name);
    show($(`${name}-message`), "");
  }
  if (name === "edit") $("edit-text").value = state.story.pages[state.page];
  $(tool.toggle).setAttribute("aria-expanded", "true");
  $(tool.panel).hidden = false;
  if (name === "history") loadHistory();
  if (tool.focus) $(tool.focus).focus();
}

// Closes a panel; `refocus`: the focus goes back to its button, if it was in the panel.
function closeTool(name, refocus = true) {
  const tool = TOOLS[name];
  const panel = $(tool.panel);
  const focusWasIn = panel.contains(document.activeElement);
  $(tool.toggle).setAttribute("aria-expanded", "false");
  panel.hidden = true;
  if (refocus || focusWasIn) $(tool.toggle).focus();
}

// The tools are for a complete story, one change at a time.
function showTools(story) {
  const complete = story.complete !== false;
  $("page-tools").hidden = !complete;
  $("story-more").hidden = !complete;
  for (const tool of Object.values(TOOLS)) setEnabled($(tool.toggle), !state.changing);
}

function showPageTools(number) {
  const story = state.story;
  for (const name of PAGE_TOOLS) closeTool(name, false);
  const drawn = mediaSlots(story, number).some((slot) => slot.kind === "images" && slot.item);
  $("redraw-toggle").hidden = !drawn;
  const version = (story.page_versions || [])[number] || 1;
  $("page-version").textContent = version > 1 ? `This page is at version ${version}.` : "";
  $("history-toggle").hidden = version <= 1;
}

// Sends a form's request: the API's answer, or null when it refused (said in the form, and under
// the field at fault, which is focused).
async function send(form, { path, method = "POST", body }) {
  const submit = $(`${form}-submit`);
  if (submit.getAttribute("aria-disabled") === "true") return null;
  clearFieldErrors(form);
  show($(`${form}-message`), "");
  const label = submit.textContent;
  setEnabled(submit, false);
  submit.textContent = "Sending…";
  try {
    return await call(path, { method, body, form });
  } catch (error) {
    show($(`${form}-message`), error.message);
    const field = showFieldErrors(error.fields || {}, form);
    if (field && error.status === 422) field.focus();
    return null;
  } finally {
    setEnabled(submit, true);
    submit.textContent = label;
  }
}

const storyPath = (story) => `api/v1/stories/${encodeURIComponent(story.id)}`;

// Redraw the page's picture (and rewrite its text, if asked), or save the owner's own text.
async function askForChange(event, kind) {
  event.preventDefault();
  const story = state.story;
  const page = state.page;
  const where = `${storyPath(story)}/pages/${page + 1}`;
  let request;
  if (kind === "redraw") {
    const body = { picture: true, text: $("redraw-text").checked };
    const instructions = $("redraw-instructions").value.trim();
    if (instructions) body.instructions = instructions;
    request = { path: `${where}/regenerate`, body };
  } else {
    request = { path: where, method: "PATCH", body: { text: $("edit-text").value } };
  }
  const accepted = await send(kind, request);
  if (!accepted) return;
  $(TOOLS[kind].panel).reset();
  closeTool(kind);
  followChange(accepted.job_id, story.id, page);
}

// Follows a change of the page on screen with the story's progress bar; when it is made, the
// story is read again and shown at that page.
async function followChange(jobId, storyId, page) {
  const run = ++state.following;
  state.changing = true;
  showTools(state.story);
  $("story-view").dataset.changing = "true";
  $("story-progress").hidden = false;
  const say = (text) => show($("story-job-message"), text);
  say("");
  showProgress({ status: "pending", progress: { stage: "queued" } }, "page");
  const read = async (job) =>
    job.status === "completed" ? call(`api/v1/stories/${encodeURIComponent(storyId)}`) : null;
  const seen = (job, story) => {
    if (job.status === "failed") {
      say(`Sorry, the page could not be changed: ${job.error || "unknown error"}`);
      return true;
    }
    if (job.status !== "completed") return false;
    if (state.story && state.story.id === storyId) showChangedStory(story, page);
    return true;
  };
  try {
    await pollJob(jobId, run, { read, seen, say, what: "page" });
  } finally {
    state.changing = false;
    delete $("story-view").dataset.changing;
    if (state.story) showTools(state.story);
  }
}

// The story as it is after a change of one of its pages: that page is shown again, where the
// reader is, without moving the focus.
function showChangedStory(story, page) {
  prepare(story);
  state.story = story;
  $("story-meta").textContent = storyMeta(story);
  showPage(Math.min(page, story.pages.length - 1));
  showCompleteness(story);
}

// A sequel, or a version in another language or for other ages: its job is followed as a new
// story's is, and the new story opens as soon as its text is written.
async function askForStory(event, kind) {
  event.preventDefault();
  const story = state.story;
  let body;
  if (kind === "sequel") {
    body = { prompt: $("sequel-prompt").value };
    if ($("sequel-age").value) body.age_group = $("sequel-age").value;
  } else {
    const language = $("version-language").value.trim();
    const age = $("version-age").value;
    if (!language && !age) {
      show($("version-message"), "Choose another language or another age group for the version.");
      $("version-language").focus();
      return;
    }
    body = {};
    if (language) body.language = language;
    if (age) body.age_group = age;
  }
  const path = `${storyPath(story)}/${kind === "sequel" ? "sequel" : "versions"}`;
  const accepted = await send(kind, { path, body });
  if (!accepted) return;
  $(TOOLS[kind].panel).reset();
  closeTool(kind, false);
  location.hash = `job=${encodeURIComponent(accepted.job_id)}`;
}

// The page's versions, oldest first, each with its text and picture as they were.
async function loadHistory() {
  const story = state.story;
  const page = state.page;
  const list = $("page-history-list");
  const status = $("page-history-status");
  list.replaceChildren();
  status.textContent = "Loading the versions of this page…";
  const stillAsked = () => state.story === story && state.page === page && !$("page-history").hidden;
  let answer;
  try {
    answer = await call(`${storyPath(story)}/pages/${page + 1}/versions`);
  } catch (error) {
    if (stillAsked()) status.textContent = error.message;
    return;
  }
  if (!stillAsked()) return;
  status.textContent = `${answer.versions.length} versions of page ${page + 1}, the first one first.`;
  list.replaceChildren(...answer.versions.map((version) => historyItem(version, story)));
}

function historyItem(version, story) {
  const item = document.createElement("li");
  item.className = "page-version";
  const made = new Date(version.created_at).toLocaleString(undefined, {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
  });
  const head = document.createElement("p");
  head.className = "page-version-head";
  const now = version.current ? " · shown now" : "";
  head.textContent = `Version ${version.version} · ${CHANGE_WORDS[version.change] || version.change} · ${made}${now}`;
  if (version.current) item.setAttribute("aria-current", "true");
  const text = document.createElement("p");
  text.className = "page-version-text";
  text.textContent = version.text;
  writtenIn(text, story.language);
  item.append(head, text);
  if (version.image) {
    const img = document.createElement("img");
    img.src = mediaUrl(version.image.image_url);
    img.alt = version.image.scene_description || `The picture of version ${version.version}`;
    img.loading = "lazy";
    item.append(img);
  }
  return item;
}

// ---------------------------------------------------------------- versions and series

// The story's versions (the original and its versions in other languages or for other ages), and
// its series (the book before it, and its sequels), as links. The story it was made from is read
// to know which it is, and to list the versions beside this one.
async function showFamily(story) {
  const look = ++state.family;
  $("story-family").hidden = true;
  let parent = null;
  if (story.parent_id) {
    try {
      parent = await call(`api/v1/stories/${encodeURIComponent(story.parent_id)}`);
    } catch {
      parent = null; // deleted: this story stands alone
    }
  }
  if (look !== state.family) return;
  const isVersion = Boolean(parent) && relationTo(parent, story) === "version";
  const original = isVersion ? parent : story;
  const versions = [original, ...(original.versions || [])];
  const before = parent && !isVersion ? [parent] : [];
  const after = story.sequels || [];
  fillFamily("versions-list", versions.length > 1 ? versions : [], story.id, (one) =>
    one.id === original.id ? "The original" : "A version",
  );
  fillFamily("series-list", before.length || after.length ? [...before, story, ...after] : [], story.id, (one) =>
    before.includes(one) ? "Before this" : one.id === story.id ? "This book" : "Next",
  );
  $("family-versions").hidden = versions.length <= 1;
  $("family-series").hidden = !(before.length || after.length);
  $("story-family").hidden = $("family-versions").hidden && $("family-series").hidden;
}

// Whether the story is a sequel or a version of its parent: as the parent lists it, else (the
// parent lists only the complete ones) by the series a sequel shares with it.
function relationTo(parent, story) {
  if ((parent.versions || []).some((one) => one.id === story.id)) return "version";
  if ((parent.sequels || []).some((one) => one.id === story.id)) return "sequel";
  if (parent.language !== story.language) return "version";
  const sameSeries = Boolean(story.series_id) && [parent.series_id, parent.id].includes(story.series_id);
  return sameSeries ? "sequel" : "version";
}

function fillFamily(listId, stories, currentId, what) {
  $(listId).replaceChildren(
    ...stories.map((one) => {
      const item = document.createElement("li");
      const link = document.createElement(one.id === currentId ? "span" : "a");
      if (one.id === currentId) link.setAttribute("aria-current", "page");
      else link.href = `#story=${encodeURIComponent(one.id)}`;
      const title = document.createElement("span");
      title.className = "family-title";
      title.textContent = one.title;
      writtenIn(title, one.language);
      const about = `${languageName(one.language)}, ages ${one.age_group}`;
      link.append(`${what(one)}: `, title, ` (${about})`);
      item.append(link);
      return item;
    }),
  );
}

// ---------------------------------------------------------------- read-along

function narrationOf(story, number) {
  const narration = story && story.narration;
  if (!narration || !Array.isArray(narration.pages)) return null;
  return narration.pages.find((spoken) => spoken.page === number + 1 && spoken.audio_url) || null;
}

// Where each character starts in a JavaScript string. The API's char_start and char_end count
// characters (Unicode code points, as Python does); JavaScript counts UTF-16 code units, and a
// character outside the BMP (an emoji) takes two of them.
function codeUnitOffsets(text) {
  const offsets = [0];
  let units = 0;
  for (const character of text) {
    units += character.length;
    offsets.push(units);
  }
  return offsets;
}

// The page's text; when it is narrated, each spoken word in a span of its own (and the text
// between words as it is), so that the word being said can be lit.
function showWords(number) {
  const text = state.story.pages[number];
  const spoken = narrationOf(state.story, number);
  const element = $("page-text");
  state.words = [];
  state.spoken = -1;
  if (!spoken || !Array.isArray(spoken.words)) {
    element.textContent = text;
    return;
  }
  const offsets = codeUnitOffsets(text);
  const parts = [];
  let at = 0;
  for (const word of spoken.words) {
    const start = offsets[word.char_start];
    const end = offsets[word.char_end];
    // a word out of place (overlapping, or past the text) is heard but not lit
    if (start === undefined || end === undefined || start < at || end <= start) continue;
    if (start > at) parts.push(document.createTextNode(text.slice(at, start)));
    const span = document.createElement("span");
    span.className = "word";
    span.textContent = text.slice(start, end);
    parts.push(span);
    state.words.push({ span, start: word.start_ms, end: word.end_ms });
    at = end;
  }
  if (at < text.length) parts.push(document.createTextNode(text.slice(at)));
  element.replaceChildren(...parts);
}

// Lights the word being said at the audio's current time, if any: none before the first word,
// in a pause between two words, or after the last.
function lightSpokenWord() {
  const ms = $("narration-audio").currentTime * 1000;
  const index = state.words.findIndex((word) => word.start <= ms && ms < word.end);
  if (index === state.spoken) return;
  if (state.spoken >= 0) state.words[state.spoken].span.classList.remove("spoken");
  if (index >= 0) state.words[index].span.classList.add("spoken");
  state.spoken = index;
}

// timeupdate comes a few times a second only: while the narration plays, every frame looks.
function followNarration() {
  cancelAnimationFrame(state.frame);
  const step = () => {
    lightSpokenWord();
    state.frame = requestAnimationFrame(step);
  };
  step();
}

function stopFollowingNarration() {
  cancelAnimationFrame(state.frame);
  state.frame = 0;
  lightSpokenWord();
}

// Gives the audio element this page's narration; if read-along is on, it plays from the start.
function loadNarration(number) {
  const audio = $("narration-audio");
  const spoken = narrationOf(state.story, number);
  const url = spoken ? mediaUrl(spoken.audio_url) : "";
  setEnabled($("read-aloud"), Boolean(url));
  if (!url) {
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    setReading(false);
    return;
  }
  audio.src = url; // starts again at 0, paused
  if (state.reading) play();
}

function play() {
  $("narration-audio")
    .play()
    .catch((error) => {
      // AbortError: a newer page's narration took its place, and is played instead
      if (error.name !== "AbortError") setReading(false);
    });
}

function setReading(on) {
  state.reading = on;
  const button = $("read-aloud");
  button.setAttribute("aria-pressed", String(on));
  button.querySelector(".read-aloud-icon").textContent = on ? "❚❚" : "▶";
}

function toggleReading() {
  const button = $("read-aloud");
  if (button.getAttribute("aria-disabled") === "true") return;
  const audio = $("narration-audio");
  if (state.reading) {
    setReading(false);
    audio.pause();
  } else {
    setReading(true);
    if (audio.ended) audio.currentTime = 0;
    play();
  }
}

// The end of a page's narration turns to the next page, which is read on; the last page's ends it.
function narrationEnded() {
  if (state.reading && state.story && state.page < state.story.pages.length - 1) {
    turn(1);
  } else {
    setReading(false);
  }
}

function stopReading() {
  setReading(false);
  const audio = $("narration-audio");
  audio.pause();
  audio.removeAttribute("src");
  audio.load();
  cancelAnimationFrame(state.frame);
  state.frame = 0;
  state.words = [];
  state.spoken = -1;
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
  stopReading();
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
    follow(jobId, Number.parseInt(params.get("page") || "1", 10) - 1);
    return;
  }
  state.following += 1; // back from a story still being made: it is followed no more
  if (state.story && state.story.complete === false) $("progress-section").hidden = true;
  if (wasReading) $("list-heading").focus();
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
  $("read-aloud").addEventListener("click", toggleReading);
  const audio = $("narration-audio");
  audio.addEventListener("play", followNarration);
  audio.addEventListener("pause", stopFollowingNarration);
  audio.addEventListener("seeked", lightSpokenWord);
  audio.addEventListener("ended", narrationEnded);
  audio.addEventListener("error", () => {
    if (audio.getAttribute("src")) setReading(false);
  });
  for (const name of Object.keys(TOOLS)) {
    $(TOOLS[name].toggle).addEventListener("click", () => toggleTool(name));
  }
  for (const name of FORM_TOOLS) {
    const form = $(TOOLS[name].panel);
    form.addEventListener("submit", (event) =>
      name === "redraw" || name === "edit" ? askForChange(event, name) : askForStory(event, name),
    );
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        closeTool(name);
      }
    });
  }
  for (const button of document.querySelectorAll("[data-closes]")) {
    button.addEventListener("click", () => closeTool(button.dataset.closes));
  }
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
