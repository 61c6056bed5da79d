# The project's image: the workshop command, the course, JupyterLab and nbgrader, and what the
# room's JupyterHub needs in the compose stack (configurable-http-proxy; a container per student).

# configurable-http-proxy, pinned by its package-lock.json as `make proxy` installs it: at build
# time, so that nothing is downloaded when the room starts.
FROM node:22-slim AS proxy
WORKDIR /proxy
COPY grader/classroom/proxy/package.json grader/classroom/proxy/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Node.js and the proxy where the hub looks for them (grader/classroom/hub.py: <sys.prefix>/proxy).
COPY --from=proxy /usr/local/bin/node /usr/local/bin/node
COPY --from=proxy /proxy /usr/local/proxy

# Dependencies first (pinned by constraints.txt), so that course edits rebuild quickly.
COPY pyproject.toml constraints.txt README.md ./
COPY grader ./grader
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && python -c "import grader, nbgrader, pika, kombu, dockerspawner" \
    && /usr/local/proxy/node_modules/.bin/configurable-http-proxy --version

# A room's student runs as this unprivileged user in a container of their own (grader/classroom/boot.py).
RUN useradd --uid 1000 --create-home --shell /bin/bash student

COPY course ./course
COPY notebooks ./notebooks
COPY solutions ./solutions
COPY docs ./docs
# The course holds the solutions and the hidden tests: root only (a student's container runs as `student`).
RUN chmod 0700 course

EXPOSE 8888 8000
CMD ["workshop", "up", "--ip", "0.0.0.0", "--port", "8888", "--workspace", "/workspace"]
