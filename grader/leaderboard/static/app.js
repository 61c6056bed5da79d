// The leaderboard page: keeps every student's row in memory, from the `snapshot` that /events
// sends first and the `delta` events after every committed verdict; ranks them and renders at
// most once per animation frame. Every name is set with textContent, never parsed as HTML.
"use strict";

const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf"];
const SVG_NS = "http://www.w3.org/2000/svg";
const MAX_POINTS = 240; // per student in memory; more are thinned to half
const state = {workshop: "", rows: new Map(), history: new Map(), firstSolver: null, version: 0};
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
    if (entry.slug === state.firstSolver) {
      const mark = document.createElement("span");
      mark.className = "first";
      mark.textContent = "★ first solver";
      name.appendChild(mark);
    }
    cell(tr, String(entry.register), "register");
    cell(tr, String(entry.fibonacci), "fibonacci");
    cell(tr, String(entry.points), "points");
    if (previousPoints.has(entry.slug) && previousPoints.get(entry.slug) !== entry.points) tr.className = "changed";
    fresh.appendChild(tr);
  });
  body.replaceChildren(fresh);
  previousPoints = new Map(rows.map((entry) => [entry.slug, entry.points]));
  document.getElementById("empty").hidden = rows.length > 0;
}

function svg(tag, attributes) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function renderChart(rows) {
  const chart = document.getElementById("chart");
  const legend = document.getElementById("legend");
  const leaders = rows.slice(0, 10).filter((entry) => (state.history.get(entry.slug) || []).length > 0);
  const series = leaders.map((entry) => state.history.get(entry.slug));
  const all = series.flat();
  chart.replaceChildren();
  legend.replaceChildren();
  if (all.length === 0) return;
  const [width, height, left, right, top, bottom] = [800, 420, 50, 20, 15, 35];
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(...all.map((p) => p[0]), t0 + 1);
  const yMax = Math.max(...all.map((p) => p[1]), 1);
  const x = (t) => left + ((t - t0) / (t1 - t0)) * (width - left - right);
  const y = (v) => height - bottom - (v / yMax) * (height - top - bottom);
  chart.appendChild(svg("line", {x1: left, y1: y(0), x2: width - right, y2: y(0), stroke: "#ccc"}));
  chart.appendChild(svg("line", {x1: left, y1: y(0), x2: left, y2: top, stroke: "#ccc"}));
  const yLabel = svg("text", {x: left - 8, y: y(yMax) + 5, "text-anchor": "end"});
  yLabel.textContent = String(yMax);
  chart.appendChild(yLabel);
  const tLabel = svg("text", {x: width - right, y: height - 8, "text-anchor": "end"});
  const span = t1 - t0;
  tLabel.textContent = span < 120 ? `${Math.round(span)} s` : `${Math.round(span / 60)} min`;
  chart.appendChild(tLabel);
  leaders.forEach((entry, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const points = series[index].concat([[t1, series[index].at(-1)[1]]]);
    let path = "";
    points.forEach(([t, v], i) => {  // a step line: points change at the moment they are scored
      path += i === 0 ? `M ${x(t)} ${y(v)}` : ` H ${x(t)} V ${y(v)}`;
    });
    chart.appendChild(svg("path", {d: path, fill: "none", stroke: colour, "stroke-width": 3}));
    const item = document.createElement("li");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colour;
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(entry.name));
    legend.appendChild(item);
  });
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
  renderTable(rows);
  renderChart(rows);
  renders += 1;
  document.body.dataset.version = String(state.version);
  document.body.dataset.updates = String(renders);
}

function connect() {
  const status = document.getElementById("status");
  const source = new EventSource("/events");
  const on = (name, apply) => source.addEventListener(name, (event) => {
    apply(JSON.parse(event.data));
    status.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    status.className = "status live";
    if (!renderPending) {
      renderPending = true;
      requestAnimationFrame(render);
    }
  });
  on("snapshot", applySnapshot);
  on("delta", applyDelta);
  source.onerror = () => {  // EventSource reconnects by itself, and gets a snapshot again
    status.textContent = "reconnecting…";
    status.className = "status down";
  };
}

document.addEventListener("DOMContentLoaded", connect);
