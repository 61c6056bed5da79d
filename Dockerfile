# The project's image: the workshop command, the course, JupyterLab and nbgrader.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# Dependencies first (pinned by constraints.txt), so that course edits rebuild quickly.
COPY pyproject.toml constraints.txt README.md ./
COPY grader ./grader
RUN pip install --no-cache-dir -c constraints.txt -e . \
    && python -c "import grader, nbgrader, pika, kombu"

COPY course ./course
COPY notebooks ./notebooks
COPY solutions ./solutions

EXPOSE 8888 8000
CMD ["workshop", "up", "--ip", "0.0.0.0", "--port", "8888", "--workspace", "/workspace"]
