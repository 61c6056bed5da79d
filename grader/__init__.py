"""RabbitMQ workshop: the live grader, the leaderboard, the notebook helpers and the CLI.

The flow of a student's message, module by module:

    settings      where the broker is (one typed object from flags and environment)
    broker        opening AMQP connections, with errors a person can act on
    management    the RabbitMQ management HTTP API
    doctor        `workshop doctor`: is the broker there, and is it usable?
    course        releasing the nbgrader course into notebooks/
    stack         `workshop up`: the whole workshop in one command
    lab           what the student notebooks import: connection, checks, topology pictures
"""

__version__ = "0.1.0"
