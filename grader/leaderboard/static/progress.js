// The class progress grid: reads /api/progress once a second with the instructor token of this
// page's address, and draws a row per student, a column per exercise (grouped by lesson). Every
// text is set with textContent; the last failure sentence is the cell's title (shown on hover).
const token = new URLSearchParams(window.location.search).get("token") || "";
const MARKS = {passed: "✔", failing: "✘", untried: ""};
let shown = -1;

function element(tag, text, className) {
  const made = document.createElement(tag);
  if (text) made.textContent = text;
  if (className) made.className = className;
  return made;
}

function draw(grid) {
  const lessons = document.querySelector("#grid tr.lessons");
  const exercises = document.querySelector("#grid tr.exercises");
  lessons.replaceChildren(element("th"));
  exercises.replaceChildren(element("th", "student"));
  let previous = null;
  for (const {lesson, exercise} of grid.exercises) {
    if (lesson === previous) {
      lessons.lastChild.colSpan += 1;
    } else {
      lessons.appendChild(element("th", lesson));
      previous = lesson;
    }
    exercises.appendChild(element("th", exercise));
  }
  const body = document.createDocumentFragment();
  for (const student of grid.students) {
    const tr = element("tr");
    tr.dataset.user = student.user;
    const who = element("td", student.name || student.user, "who");
    who.title = student.user;  // the broker account, when the row shows the roster's name
    tr.appendChild(who);
    student.cells.forEach((cell, index) => {
      const td = element("td", MARKS[cell.state], `cell ${cell.state}`);
      td.dataset.exercise = `${grid.exercises[index].lesson}/${grid.exercises[index].exercise}`;
      if (cell.sentence) td.title = cell.sentence;
      tr.appendChild(td);
    });
    body.appendChild(tr);
  }
  document.querySelector("#grid tbody").replaceChildren(body);
  document.getElementById("nothing").hidden = grid.students.length > 0;
  document.body.dataset.version = String(grid.version);
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const response = await fetch("/api/progress", {headers: {Authorization: `Bearer ${token}`}, cache: "no-store"});
    if (!response.ok) throw new Error(response.status === 403 ? "the instructor token is wrong" : response.statusText);
    const grid = await response.json();
    if (grid.version !== shown) {
      draw(grid);
      shown = grid.version;
    }
    status.textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    status.className = "status live";
  } catch (error) {
    status.textContent = `not updating: ${error.message}`;
    status.className = "status down";
  }
  setTimeout(poll, 1000);
}

poll();
