// The chart of points over time of the top ten: one step line each, drawn as SVG elements (never
// parsed from text), and the legend of their names.
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf"];
const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attributes) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

export function renderChart(rows, history) {
  const chart = document.getElementById("chart");
  const legend = document.getElementById("legend");
  const leaders = rows.slice(0, 10).filter((entry) => (history.get(entry.slug) || []).length > 0);
  const series = leaders.map((entry) => history.get(entry.slug));
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
