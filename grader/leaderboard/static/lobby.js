// While the room fills: the join panel (its address and QR code come in the page from the server)
// is large, and the lobby lists the names of students as they log into the room (its JupyterHub)
// or register, newest first, until they solve their first task. The panel shrinks once the class is there: `data-class-size` students
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

export function renderLobby(rows, logins = []) {
  // waiting: registered and yet to solve a task, and (in a room) logged in and yet to register
  const registered = new Set(rows.map((entry) => entry.slug));
  const unsolved = rows.filter((entry) => entry.fibonacci === 0);
  const waiting = unsolved
    .map((entry) => ({key: entry.slug, name: entry.name, at: entry.reached_at}))
    .concat(logins.filter((login) => !registered.has(login.user))
      .map((login) => ({key: login.user, name: login.name, at: login.at})))
    .sort((a, b) => b.at - a.at || (a.key < b.key ? -1 : 1));
  const list = document.getElementById("lobby-names");
  const fresh = document.createDocumentFragment();
  for (const entry of waiting) {
    const item = document.createElement("li");
    item.dataset.slug = entry.key;
    item.textContent = entry.name;
    if (seen !== null && !seen.has(entry.key)) item.className = "new";
    fresh.appendChild(item);
  }
  list.replaceChildren(fresh);
  seen = new Set([...registered, ...logins.map((login) => login.user)]);
  const count = document.getElementById("lobby-count");
  const parts = [];
  if (logins.length) parts.push(`${logins.length} logged in`);
  if (rows.length) parts.push(`${rows.length} registered`);
  if (unsolved.length < rows.length) parts.push(`${unsolved.length} yet to solve a task`);
  count.textContent = parts.length ? parts.join(" · ") : "nobody yet: be the first";
}
