# nbgrader configuration of the RabbitMQ workshop course.
# Run nbgrader commands from this directory, for example `nbgrader autograde 01-hello-world`.
c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "rabbitmq-workshop"
c.CourseDirectory.root = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."

# What a student sees in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A student's cell that blocks (a consumer that never stops) is interrupted after this many
# seconds and counts as an error; grading goes on with the next cell.
c.Execute.timeout = 20
c.Execute.interrupt_on_timeout = True
