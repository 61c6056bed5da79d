// The leaderboard page: keeps every student's row in memory, from the `snapshot` that /events
// sends first and the `delta` events after every committed verdict; ranks them and renders at
// most once per animation frame. Every name is set with textContent, never parsed as HTML.
import {renderChart} from "./chart.js";
import {renderLobby, setupJoin, sizeJoin} from "./lobby.js";
import {isMe, paginate, setup as setupPages} from "./pages.js";

const MAX_POINTS = 240; // per student in memory; more are thinned to half
const state = {workshop: "", rows: new Map(), history: new Map(), firstSolver: null, version: 0, frozen: false,
  logins: []};
let previousPoints = new Map();
let renderPending = false;
let renders = 0; // how many times this page rendered (on <body data-updates>, for tests)

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function byRank(a, b) { // as the store ranks: most points, then who got there first, then slug
  if (a.points !== b.points) return b.points - a.points;
  if (a.reached_at !== b.reached_at) return a.reached_at - b.reached_at;
  return a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0;
}

function renderTable(rows) {
  const body = document.querySelector("#board tbody");
  const fresh = document.createDocumentFragment();
  rows.forEach((entry, index) => {
    const tr = document.createElement("tr");
    tr.dataset.slug = entry.slug;
    cell(tr, String(index + 1), "rank");
    const name = cell(tr, entry.name, "name");
    name.title = entry.name;
    if (entry.slug === state.firstSolver) {
      const mark = document.createElement("span");
      mark.className = "first";
      mark.textContent = "★ first solver";
      name.appendChild(mark);
    }
    cell(tr, String(entry.register), "register");
    cell(tr, String(entry.fibonacci), "fibonacci");
    cell(tr, String(entry.chat ?? 0), "chat");
    cell(tr, String(entry.points), "points");
    if (previousPoints.has(entry.slug) && previousPoints.get(entry.slug) !== entry.points) tr.classList.add("changed");
    if (isMe(entry)) tr.classList.add("me");
    fresh.appendChild(tr);
  });
  body.replaceChildren(fresh);
  previousPoints = new Map(rows.map((entry) => [entry.slug, entry.points]));
  document.getElementById("empty").hidden = rows.length > 0;
}

function addPoint(slug, at, total) {
  const points = state.history.get(slug) || [];
  points.push([at, total]);
  // Thinned, first and last kept: hours of answers at any rate never make the page grow.
  state.history.set(slug, points.length <= MAX_POINTS ? points
    : points.filter((_, i) => i % 2 === 0 || i === points.length - 1));
}

function applySnapshot(snapshot) {
  state.workshop = snapshot.workshop;
  state.rows = new Map(snapshot.rows.map((entry) => [entry.slug, entry]));
  state.history = new Map(Object.entries(snapshot.history));
  state.firstSolver = snapshot.first_solver;
  state.version = snapshot.version;
  state.frozen = Boolean(snapshot.frozen);
  state.logins = snapshot.logins || [];
  document.body.dataset.frozen = String(state.frozen);
  document.getElementById("workshop").textContent = state.workshop;
  document.getElementById("tasks-queue").textContent = `${state.workshop}.<your-name>`;
  document.getElementById("results-queue").textContent = `${state.workshop}.results`;
}

function applyDelta(delta) {
  for (const entry of delta.rows) state.rows.set(entry.slug, entry);
  for (const [slug, at, total] of delta.scored) addPoint(slug, at, total);
  state.firstSolver = delta.first_solver;
  state.version = delta.version;
}

function render() { // at most once per frame, however many events came in between
  renderPending = false;
  const rows = [...state.rows.values()].sort(byRank);
  sizeJoin(rows); // first: the size of the join panel changes the room the board has
  renderLobby(rows, state.logins);
  renderTable(rows);
  paginate();
  renderChart(rows, state.history);
  renders += 1;
  document.body.dataset.version = String(state.version);
  document.body.dataset.updates = String(renders);
}

function connect() {
  const status = document.getElementById("status");
  const source = new EventSource("/events");
  const on = (name, apply) => source.addEventListener(name, (event) => {
    apply(JSON.parse(event.data));
    status.textContent = state.frozen ? "frozen by the instructor"
      : `live · updated ${new Date().toLocaleTimeString()}`;
    status.className = state.frozen ? "status frozen" : "status live";
    if (!renderPending) {
      renderPending = true;
      requestAnimationFrame(render);
    }
  });
  on("snapshot", applySnapshot);
  on("delta", applyDelta);
  on("lobby", (lobby) => { state.logins = lobby.logins; }); // who logged into the room
  source.onerror = () => {  // EventSource reconnects by itself, and gets a snapshot again
    status.textContent = "reconnecting…";
    status.className = "status down";
  };
}

const params = new URLSearchParams(window.location.search);
setupPages(params);
setupJoin(params, paginate);
connect(); // a module runs once the document is parsed
