"""RabbitMQ workshop: the course, the live grader, the leaderboard, the room, and the CLI.

The products, each a subpackage:

    live/         the live grader: a student's message in, a verdict, points and a reply out
                  (protocol, accounts for version 2, grading, consumer, store, dealer, chat)
    leaderboard/  the page on the projector: ranking, join address, lobby, progress grid
    classroom/    the room: `workshop provision` (an account per student), `teardown`, and the
                  JupyterHub where each student logs in to a JupyterLab of their own
    lab/          what the student notebooks import: connection, checks, topology pictures
    course/       the nbgrader course: release notebooks/, grade what students hand in

What composes them, on top:

    serve         `workshop serve`: grader, chat grader, dealer and leaderboard in one process
    stack         `workshop up`: the whole workshop in one command (JupyterLab or the room's hub)
    cli           the `workshop` command
    doctor        `workshop doctor`: is the broker there, and is it usable?

The broker plumbing, underneath: settings (where the broker is), broker (connections with
errors a person can act on), management (the HTTP API), names (every queue and exchange of the
classroom protocol), errors, paths.
"""

__version__ = "0.1.0"
