// The leaderboard page: renders the snapshot that /events pushes after every committed verdict.
// Every name is set with textContent, never parsed as HTML.
"use strict";

const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf"];
const SVG_NS = "http://www.w3.org/2000/svg";
let previousPoints = new Map();
window.leaderboardUpdates = 0; // how many updates this page rendered (tests read it)

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function renderTable(rows) {
  const body = document.querySelector("#board tbody");
  const fresh = document.createDocumentFragment();
  for (const entry of rows) {
    const tr = document.createElement("tr");
    tr.dataset.slug = entry.slug;
    cell(tr, String(entry.rank), "rank");
    const name = cell(tr, entry.name, "name");
    if (entry.first_solver) {
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
  }
  body.replaceChildren(fresh);
  previousPoints = new Map(rows.map((entry) => [entry.slug, entry.points]));
  document.getElementById("empty").hidden = rows.length > 0;
}

function svg(tag, attributes) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function renderChart(rows, history) {
  const chart = document.getElementById("chart");
  const legend = document.getElementById("legend");
  const leaders = rows.slice(0, 10).filter((entry) => (history[entry.slug] || []).length > 0);
  const series = leaders.map((entry) => history[entry.slug]);
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
    const points = history[entry.slug].concat([[t1, history[entry.slug].at(-1)[1]]]);
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

function render(snapshot) {
  document.getElementById("workshop").textContent = snapshot.workshop;
  document.getElementById("tasks-queue").textContent = `${snapshot.workshop}.<your-name>`;
  document.getElementById("results-queue").textContent = `${snapshot.workshop}.results`;
  renderTable(snapshot.rows);
  renderChart(snapshot.rows, snapshot.history);
  window.leaderboardUpdates += 1;
}

function connect() {
  const status = document.getElementById("status");
  const source = new EventSource("/events");
  source.addEventListener("update", (event) => {
    render(JSON.parse(event.data));
    status.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    status.className = "status live";
  });
  source.onerror = () => {  // EventSource reconnects by itself
    status.textContent = "reconnecting…";
    status.className = "status down";
  };
}

document.addEventListener("DOMContentLoaded", connect);
