#!/usr/bin/env python
"""Lesson 8: a worker that retries a failed job a few times, later, then dead-letters it.

Consumes the queue `work` (declare it with dlx_setup.py, or let this script declare it). A job is
a JSON object such as {"job": 7}; {"job": 7, "fail": true} always fails, and so does a body that is
not JSON: both stand for a poison message. For each delivery:

* success: ack;
* failure, attempts left: republish a copy to `work.retry` with the header "attempts" raised by
  one, and ack the original only once the broker has confirmed the copy. `work.retry` hands the
  copy back to `work` after 500 ms (TTL + dead-lettering): a delayed retry;
* failure on the last attempt: reject with requeue=False, so the broker dead-letters the job to
  `work.dead` (with an x-death header). A poison message is never requeued forever.

Runs until Ctrl+C (or until --count jobs finished, done or dead-lettered, or --timeout seconds
passed). The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import json
import os

import pika
import pika.exceptions

from dlx_setup import DEAD, RETRY, RETRY_DELAY_MS, WORK, declare_topology

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"


class JobFailed(Exception):
    """The job cannot be processed (this time)."""


def process(body: bytes) -> int:
    """Do the job; return its number, or raise JobFailed saying why."""
    try:
        job = json.loads(body)
    except ValueError as exc:
        raise JobFailed("not JSON") from exc
    if not isinstance(job, dict) or "job" not in job:
        raise JobFailed("no job number")
    if job.get("fail"):
        raise JobFailed("the job asked to fail")
    return job["job"]


def attempts_of(properties) -> int:
    """How many times this job has been tried, this delivery included."""
    return int((properties.headers or {}).get("attempts", 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    parser.add_argument("--max-attempts", type=int, default=3, help="tries per job before it is dead-lettered")
    parser.add_argument("--count", type=int, default=0, help="stop after this many finished jobs (0: never)")
    parser.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    args = parser.parse_args()

    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    channel = connection.channel()
    declare_topology(channel)
    channel.confirm_delivery()  # the retry copy must be safe before the original is acked
    channel.basic_qos(prefetch_count=1)
    finished = 0

    def on_message(ch, method, properties, body):
        nonlocal finished
        attempt = attempts_of(properties)
        try:
            number = process(body)
        except JobFailed as failure:
            if attempt < args.max_attempts:
                headers = dict(properties.headers or {}, attempts=attempt + 1)
                ch.basic_publish(
                    exchange="",
                    routing_key=RETRY,
                    body=body,
                    properties=pika.BasicProperties(
                        content_type=properties.content_type,
                        delivery_mode=pika.DeliveryMode.Persistent,
                        headers=headers,
                    ),
                    mandatory=True,
                )
                ch.basic_ack(method.delivery_tag)
                print(f" [!] attempt {attempt}/{args.max_attempts} failed ({failure}); "
                      f"retrying in {RETRY_DELAY_MS} ms through {RETRY}", flush=True)
                return
            ch.basic_reject(method.delivery_tag, requeue=False)
            print(f" [!] attempt {attempt}/{args.max_attempts} failed ({failure}); "
                  f"dead-lettered to {DEAD}", flush=True)
        else:
            ch.basic_ack(method.delivery_tag)
            print(f" [x] job {number} done", flush=True)
        finished += 1
        if finished == args.count:
            ch.stop_consuming()

    channel.basic_consume(queue=WORK, on_message_callback=on_message)
    if args.timeout:
        connection.call_later(args.timeout, channel.stop_consuming)
    print(" [*] Waiting for jobs. To exit press CTRL+C", flush=True)
    try:
        channel.start_consuming()
    except KeyboardInterrupt:
        print(" [*] Bye")
    finally:
        if connection.is_open:
            connection.close()
    print(f" [*] Finished {finished} jobs")


if __name__ == "__main__":
    main()
