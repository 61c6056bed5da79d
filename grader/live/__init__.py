"""The live exercises: what students send during the workshop, graded as it arrives.

The flow of one message, module by module:

- `envelope`: what arrived (body and AMQP properties), read as untrusted data of any type;
- `protocol`: the body decoded and validated (classroom protocol version 1), pure;
- `identity`: a student's id from their name, in any script;
- `checks`: the verdict on one message given what the store knows, pure;
- `grading`: a batch judged and recorded in one pass, idempotent across redeliveries;
- `store`: where students, tasks and verdicts are kept (SQLite or PostgreSQL);
- `consumer`: the grader's AMQP loop: consume, grade, then reply, copy rejects and ack;
- `dealer`: Fibonacci tasks into each student's queue;
- `standings`: the ranking the leaderboard shows; `demo`: a simulated class.
"""
