// The board on a projector: as many rows as fit the screen, in pages that turn by themselves
// (every `?rotate=SECONDS`, default 10), so that a class of 60 sees every row in turn. The row of
// `?me=<name or id>` is marked and always shown, on every page; the search box shows the rows whose
// name holds what was typed (and stops the turning while it is not empty).
const ROTATE = 10; // seconds a page stays
const pager = {page: 0, pages: 1, query: "", me: null};

export function slugOf(text) { // the ASCII part of the grader's student ids, to match ?me= against
  return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
}

export function isMe(entry) {
  if (!pager.me) return false;
  return entry.slug === pager.me || entry.name.toLowerCase() === pager.me.toLowerCase() ||
    entry.slug === slugOf(pager.me);
}

export function setup(params) {
  pager.me = (params.get("me") || "").trim() || null;
  const seconds = Math.max(1, Number(params.get("rotate")) || ROTATE);
  const search = document.getElementById("search");
  search.addEventListener("input", () => {
    pager.query = search.value.trim().toLowerCase();
    paginate();
  });
  window.addEventListener("resize", paginate);
  setInterval(() => {
    if (pager.query || pager.pages < 2) return;
    pager.page = (pager.page + 1) % pager.pages;
    paginate();
  }, seconds * 1000);
}

function capacity(rows) { // how many rows of this height fit below the table's head
  const box = document.getElementById("rows");
  const head = document.querySelector("#board thead");
  const height = rows[0].getBoundingClientRect().height || 1;
  return Math.max(1, Math.floor((box.clientHeight - head.getBoundingClientRect().height) / height));
}

function show(rows, visible) {
  for (const tr of rows) tr.classList.toggle("off", !visible.has(tr));
}

export function paginate() {
  const board = document.getElementById("board");
  const note = document.getElementById("pager");
  const rows = [...board.tBodies[0].rows];
  rows.forEach((tr) => tr.classList.remove("off", "pinned", "match"));
  if (rows.length === 0) {
    note.textContent = "";
    return;
  }
  const fits = capacity(rows);
  const mine = rows.find((tr) => tr.classList.contains("me"));
  if (pager.query) {
    const found = rows.filter((tr) => tr.querySelector("td.name").textContent.toLowerCase().includes(pager.query));
    found.forEach((tr) => tr.classList.add("match"));
    show(rows, new Set(found.slice(0, fits)));
    note.textContent = found.length ? `${found.length} found` : "nobody by that name";
    pager.pages = 1;
  } else if (rows.length <= fits) {
    pager.page = 0;
    pager.pages = 1;
    note.textContent = "";
  } else {
    const per = mine ? fits - 1 : fits; // room for the pinned row of ?me=
    pager.pages = Math.ceil(rows.length / Math.max(1, per));
    pager.page %= pager.pages;
    const start = pager.page * per;
    const visible = new Set(rows.slice(start, start + per));
    if (mine && !visible.has(mine)) {
      mine.classList.add("pinned");
      visible.add(mine);
    }
    show(rows, visible);
    note.textContent = `ranks ${start + 1}–${Math.min(start + per, rows.length)} of ${rows.length} · ` +
      `page ${pager.page + 1} of ${pager.pages}`;
  }
  board.dataset.page = String(pager.page + 1);
  board.dataset.pages = String(pager.pages);
  if (pager.me && !mine) note.textContent += ` · ${pager.me} is not registered yet`;
}
