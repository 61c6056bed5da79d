"""RabbitMQ workshop: the live grader, the leaderboard, the notebook helpers and the CLI.

The live exercises, in the order a student's message meets them:

    names         every queue and exchange name of the classroom protocol
    consumer      where messages arrive: batches, ack after commit, replies, dead letters
    protocol      decoding and validating what students send (pure)
    grading       a batch: parse, judge in order, record in one transaction
    checks        the verdicts and the sentences students read (pure)
    store         where scores are kept (SQLite, or PostgreSQL for several graders)
    standings     reading the ranking back
    leaderboard/  where scores are shown: the page, JSON, CSV and live updates
    dealer        Fibonacci tasks out to the students' queues
    serve, demo   `workshop serve` (grader + dealer + page) and a simulated class

The course and the workshop around it:

    settings      where the broker is (one typed object from flags and environment)
    broker        AMQP connections with errors a person can act on, and the reconnect loop
    management    the RabbitMQ management HTTP API
    doctor        `workshop doctor`: is the broker there, and is it usable?
    course        releasing the nbgrader course into notebooks/, autograding
    stack         `workshop up`: the whole workshop in one command
    accounts      `workshop accounts`: a user and a vhost per student on one broker
    lab/          what the student notebooks import: connection, checks, topology pictures
    cli           the `workshop` command
"""

__version__ = "0.1.0"
