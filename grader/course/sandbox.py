"""One submission graded by nbgrader's own autograde, in a child process that cannot hang the batch.

The worker prepares a course root of its own for the job (the course's config and source, and a
gradebook where the assignment is generated), puts the submission in `submitted/`, and runs
a child process (forked; `python -m grader.course.sandbox ROOT ASSIGNMENT STUDENT TIMEOUT` does
the same alone) with the run's RABBITMQ_URL:

- the child's address space is capped (its kernel inherits the cap), so a notebook that eats
  memory gets a MemoryError in its cell and the rest is graded;
- a cell is interrupted after `cell_timeout` seconds (nbgrader's Execute.timeout), and the whole
  submission is killed after `limit` seconds, with everything it forked;
- its output goes to a pipe of which only the last `OUTPUT_TAIL` bytes are kept;
- the child adopts every orphan its kernel leaves (a forking notebook) and kills them before it
  exits, and kills them too if its worker dies under it.

What nbgrader wrote into the job's gradebook is then the worker's to record (grader/course/record.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from grader.course import jobs, processes
from grader.course.nbgrader import CONFIG_FILE, copy_course, generate, nbgrader_api

OUTCOME = "outcome.json"
OUTPUT_TAIL = 16 * 1024  # bytes of the child's own output kept for the reason of a failure
KILL_GRACE = 5.0  # seconds between the limit and SIGKILL of a child that was told to stop

# nbgrader's error, as the instructor should read it (the first that appears in its log wins)
REASONS = (
    ("DeadKernelError", "the kernel died while running the notebook (it exited or was killed: os._exit, a "
                        "signal, a crash)"),
    ("UnresponsiveKernelError", "the kernel stopped answering and could not be interrupted"),
    ("NotJSONError", "the notebook is not valid JSON (the file is damaged)"),
    ("does not appear to be JSON", "the notebook is not valid JSON (the file is damaged)"),
    ("ValidationError", "the notebook is not a valid Jupyter notebook"),
    ("MemoryError", "grading ran out of memory"),
    ("NoSuchKernel", "the notebook asks for a kernel that does not exist"),
    ("No notebooks found", "no notebook of the assignment in the submission"),
)


@dataclass(frozen=True)
class Outcome:
    success: bool
    reason: str  # empty when graded
    seconds: float


def prepare_template(course_dir: Path, assignment: str, root: Path) -> Path:
    """A course root at `root` where `assignment` is generated: what every job's root copies."""
    copy_course(course_dir, root)
    generate(nbgrader_api(course_dir, root), assignment)
    return root


def job_root(template: Path, assignment: str, student: str, files: dict[str, str], root: Path) -> Path:
    """A fresh course root for one job: the template's config, source and gradebook, and the
    submission in `submitted/<student>/<assignment>/`."""
    root.mkdir(parents=True)
    shutil.copy2(template / CONFIG_FILE, root / CONFIG_FILE)
    shutil.copy2(template / "gradebook.db", root / "gradebook.db")
    shutil.copytree(template / "source" / assignment, root / "source" / assignment)
    jobs.unpack_files(files, root / "submitted" / student / assignment)
    return root


def run(root: Path, assignment: str, student: str, *, env: dict[str, str], cell_timeout: int,
        limit: float, memory_mb: int, keep_alive=None) -> Outcome:
    """Grade the submission of `root` in a child process; never longer than `limit`.
    `keep_alive()` is called about twice a second meanwhile (the worker's broker heartbeats).

    The child is forked from the worker, which has imported nbgrader already (seconds saved per
    submission); it starts a session of its own and keeps none of the worker's sockets."""
    started = time.monotonic()
    argv = [str(root), assignment, student, str(cell_timeout)]
    read_end, write_end = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(read_end)
            _become_sandbox(write_end, env, memory_mb)
            code = main(argv, parent=parent)
        except BaseException:  # noqa: BLE001 - the parent reports the last line of the output
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(write_end)
    tail = bytearray()
    reader = threading.Thread(target=_keep_tail, args=(os.fdopen(read_end, "rb"), tail), daemon=True)
    reader.start()
    timed_out, status = False, None
    while status is None:
        done, code = os.waitpid(pid, os.WNOHANG)
        if done:
            status = code
            break
        if time.monotonic() - started > limit and not timed_out:
            timed_out = True
            processes.kill_descendants(pid)
            os.kill(pid, signal.SIGKILL)
        if keep_alive:
            keep_alive()
        time.sleep(0.2)
    processes.kill_descendants()  # orphans adopted by the worker (a subreaper) if the child died first
    reader.join(timeout=KILL_GRACE)
    seconds = time.monotonic() - started
    if timed_out:
        return Outcome(False, f"stopped after the limit of {limit:g} s per submission (--limit)", seconds)
    try:
        outcome = json.loads((root / OUTCOME).read_text())
    except (OSError, ValueError):
        last = bytes(tail).decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        why = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit status {os.waitstatus_to_exitcode(status)}"
        return Outcome(False, f"the grading process died ({why}; last output: {last[0][:200]})", seconds)
    return Outcome(outcome["success"], outcome["reason"], seconds)


def _become_sandbox(output: int, env: dict[str, str], memory_mb: int) -> None:
    """In the forked child: a session of its own, output to the pipe, none of the worker's
    sockets (its broker connection stays the worker's), the run's environment, the caps."""
    os.setsid()
    for fd in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else ():
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                os.close(int(fd))
        except OSError:
            pass
    stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.environ.clear()
    os.environ.update(env)
    processes.limit_resources(memory_mb)


def _keep_tail(stream, tail: bytearray) -> None:
    """Read the child's output to the end, keeping only its last OUTPUT_TAIL bytes."""
    for chunk in iter(lambda: stream.read1(65536), b""):
        tail += chunk
        del tail[:-OUTPUT_TAIL]
    stream.close()


def reason_of(log: str) -> str:
    for marker, reason in REASONS:
        if marker in log:
            return reason
    lines = [line for line in log.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "nbgrader failed without saying why")[:300]


# -- the child ------------------------------------------------------------------------------------

def _watch_parent(parent: int) -> None:
    """If the worker dies under us, take the kernel and its forks with us."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            processes.kill_descendants()
            os._exit(3)


def restore_hidden_tests(root: Path, assignment: str, student: str) -> None:
    """Put the hidden tests back into the locked cells the student left as released.

    nbgrader keeps a locked cell's checksum as of the source (with its hidden tests), and the
    release has them removed, so every untouched check cell with hidden tests would make
    OverwriteCells warn `Attribute 'checksum' for cell ... has changed!` and put the source back.
    Doing that first for the cells that are exactly as released grades the same and leaves the
    warning for the cells a student really edited.
    """
    import nbformat
    from nbgrader.api import Gradebook, MissingEntry
    from nbgrader.preprocessors import ClearHiddenTests

    folder = root / "submitted" / student / assignment
    strip = ClearHiddenTests()
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for path in sorted(folder.glob("*.ipynb")):
            try:
                notebook = nbformat.read(path, as_version=4)
                source = {cell.name: cell for cell in gradebook.find_notebook(path.stem, assignment).source_cells}
            except (MissingEntry, Exception):  # noqa: BLE001 - nbgrader itself says what is wrong with it
                continue
            changed = False
            for cell in notebook.cells:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                original = source.get(meta.get("grade_id"))
                if not (original and original.locked and meta.get("locked")) or cell.source == original.source:
                    continue
                released = nbformat.from_dict({"cell_type": original.cell_type, "metadata": {}, "source": original.source})
                strip._remove_hidden_test_region(released)
                if cell.source == released.source:
                    cell.source = original.source
                    changed = True
            if changed:
                nbformat.write(notebook, path)


def main(argv: list[str], parent: int | None = None) -> int:
    root, assignment, student, cell_timeout = Path(argv[0]), argv[1], argv[2], int(argv[3])
    processes.become_subreaper()
    threading.Thread(target=_watch_parent, args=(parent or os.getppid(),), daemon=True).start()
    from grader.course.nbgrader import nbgrader_api

    try:
        restore_hidden_tests(root, assignment, student)
        api = nbgrader_api(root, root)
        api.config.Execute.timeout = cell_timeout
        result = api.autograde(assignment, student)
        outcome = {"success": bool(result["success"]),
                   "reason": "" if result["success"] else reason_of(f"{result.get('error') or ''}\n{result.get('log', '')}")}
    except MemoryError:
        outcome = {"success": False, "reason": reason_of("MemoryError")}
    except Exception as exc:  # noqa: BLE001 - reported as the job's reason
        outcome = {"success": False, "reason": reason_of(f"{type(exc).__name__}: {exc}")}
    processes.kill_descendants()
    (root / OUTCOME).write_text(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
