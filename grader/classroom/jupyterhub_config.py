# JupyterHub's configuration for the room: `workshop up --room` runs `jupyterhub -f` on this file
# with WORKSHOP_ROOM naming the room.json it prepared. Everything is in grader/classroom/hub.py.
import os

from grader.classroom import hub, room

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)
hub.configure(c, room.load(os.environ[hub.ROOM_FILE]))
