// The instructor's control panel: every action is a POST to /api/admin/<action> with the
// instructor token of this page's address as a bearer token. Names are set with textContent only.
const token = new URLSearchParams(window.location.search).get("token") || "";
const message = document.getElementById("message");
const status = document.getElementById("status");

async function act(action, body) {
  const response = await fetch(`/api/admin/${action}`, {
    method: "POST", cache: "no-store", body: JSON.stringify(body),
    headers: {Authorization: `Bearer ${token}`, "Content-Type": "application/json"},
  });
  let answer = {ok: false, message: response.statusText};
  try { answer = await response.json(); } catch (error) { /* not JSON: keep the status text */ }
  message.textContent = answer.message;
  message.className = answer.ok ? "message" : "message failed";
  document.body.dataset.done = String(Number(document.body.dataset.done || 0) + 1);
  await refresh();
}

function row(entry) {
  const tr = document.createElement("tr");
  tr.dataset.slug = entry.slug;
  for (const [text, className] of [[entry.name, "name"], [entry.slug, "slug"], [String(entry.points), "num"]]) {
    const td = document.createElement("td");
    td.textContent = text;
    td.className = className;
    tr.appendChild(td);
  }
  const renameCell = document.createElement("td");
  const input = document.createElement("input");
  input.type = "text";
  input.className = "new-name";
  input.setAttribute("aria-label", `new name for ${entry.name}`);
  const rename = document.createElement("button");
  rename.type = "button";
  rename.className = "rename";
  rename.textContent = "Rename";
  rename.addEventListener("click", () => act("rename", {slug: entry.slug, name: input.value}));
  renameCell.append(input, rename);
  const removeCell = document.createElement("td");
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "remove";
  remove.textContent = "Remove";
  remove.addEventListener("click", () => act("remove", {slug: entry.slug}));
  removeCell.appendChild(remove);
  tr.append(renameCell, removeCell);
  return tr;
}

async function refresh() {
  try {
    const response = await fetch("/api/leaderboard", {cache: "no-store"});
    const rows = await response.json();
    const body = document.querySelector("#players tbody");
    const editing = document.activeElement && document.activeElement.classList.contains("new-name");
    if (!editing) body.replaceChildren(...rows.map(row));
    status.textContent = `${rows.length} ${rows.length === 1 ? "player" : "players"} · ${new Date().toLocaleTimeString()}`;
    status.className = "status live";
  } catch (error) {
    status.textContent = "the leaderboard does not answer";
    status.className = "status down";
  }
}

document.getElementById("freeze").addEventListener("click", () => act("freeze", {frozen: true}));
document.getElementById("unfreeze").addEventListener("click", () => act("freeze", {frozen: false}));
document.getElementById("deal").addEventListener("click",
  () => act("deal", {count: Number(document.getElementById("deal-count").value)}));
document.getElementById("reset").addEventListener("click",
  () => act("reset", {confirm: document.getElementById("reset-confirm").value}));
document.getElementById("progress-link").href = `/progress?token=${encodeURIComponent(token)}`;
refresh();
setInterval(refresh, 5000);
