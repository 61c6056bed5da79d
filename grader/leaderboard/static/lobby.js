// While the room fills: the join panel (its address and QR code come in the page from the server)
// is large, and the lobby lists the names of students as they register, newest first, until they
// solve their first task. The panel shrinks once the class is there: `data-class-size` students
// registered, or (without a class size) once someone has solved a task. Its button, and
// `?join=large|small`, choose the size by hand.
let chosen = null; // "large" or "small" when chosen by hand
let seen = null; // slugs already in the lobby, to mark the newcomers
let lastRows = []; // the rows of the last render, for the size button

export function setupJoin(params, resized) {
  const wanted = params.get("join");
  if (wanted === "large" || wanted === "small") chosen = wanted;
  const button = document.getElementById("join-toggle");
  if (button) button.addEventListener("click", () => {
    chosen = document.body.classList.contains("join-large") ? "small" : "large";
    sizeJoin(null);
    resized();
  });
}

export function sizeJoin(rows) {
  if (rows) lastRows = rows;
  const panel = document.getElementById("join");
  if (!panel) return;
  const classSize = Number(document.body.dataset.classSize) || 0;
  const filling = classSize > 0 ? lastRows.length < classSize : !lastRows.some((entry) => entry.fibonacci > 0);
  const large = chosen ? chosen === "large" : filling;
  document.body.classList.toggle("join-large", large);
  document.body.classList.toggle("join-small", !large);
  document.getElementById("join-toggle").textContent = large ? "smaller" : "larger";
}

export function renderLobby(rows) {
  const waiting = rows.filter((entry) => entry.fibonacci === 0)
    .sort((a, b) => b.reached_at - a.reached_at || (a.slug < b.slug ? -1 : 1));
  const list = document.getElementById("lobby-names");
  const fresh = document.createDocumentFragment();
  for (const entry of waiting) {
    const item = document.createElement("li");
    item.dataset.slug = entry.slug;
    item.textContent = entry.name;
    if (seen !== null && !seen.has(entry.slug)) item.className = "new";
    fresh.appendChild(item);
  }
  list.replaceChildren(fresh);
  seen = new Set(rows.map((entry) => entry.slug));
  const count = document.getElementById("lobby-count");
  count.textContent = rows.length === 0 ? "nobody yet: be the first"
    : `${rows.length} registered` + (waiting.length < rows.length ? ` · ${waiting.length} yet to solve a task` : "");
}
