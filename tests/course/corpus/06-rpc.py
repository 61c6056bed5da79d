"""Lesson 6, RPC: an iterative fib, the server callback, and a client with correlation ids and a timeout."""

from tests.course.corpus import makers

L = "06-rpc"

FIB = """
def fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
"""
ON_REQUEST = """
def on_request(ch, method, properties, body):
    n = int(body)
    print(" [.] fib(%s)" % n)
    response = fib(n)
    ch.basic_publish(
        exchange="",
        routing_key=properties.reply_to,
        properties=pika.BasicProperties(correlation_id=properties.correlation_id),
        body=str(response),
    )
    ch.basic_ack(delivery_tag=method.delivery_tag)
"""
CLIENT = """
class FibonacciClient:
    def __init__(self, url):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        result = self.channel.queue_declare(queue="", exclusive=True)
        self.callback_queue = result.method.queue
        self.channel.basic_consume(queue=self.callback_queue, on_message_callback=self.on_response, auto_ack=True)
        self.response = None
        self.corr_id = None

    def on_response(self, ch, method, props, body):
        if self.corr_id == props.correlation_id:
            self.response = body

    def call(self, n, timeout=5.0):
        self.response = None
        self.corr_id = str(uuid.uuid4())
        self.channel.basic_publish(
            exchange="",
            routing_key="rpc_queue",
            properties=pika.BasicProperties(reply_to=self.callback_queue, correlation_id=self.corr_id),
            body=str(n),
        )
        deadline = time.monotonic() + timeout
        while self.response is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer to fib(%d) within %s s" % (n, timeout))
            self.connection.process_data_events(time_limit=remaining)
        return int(self.response)

    def close(self):
        self.connection.close()
"""


correct, wrong = makers(L, fib=FIB, on_request=ON_REQUEST, client=CLIENT)


CORPUS = [
    correct("tutorial style, with a deadline loop around process_data_events"),
    correct(
        "the consume() generator for the replies, a list-based fib",
        fib="""
            def fib(n):
                numbers = [0, 1]
                for i in range(2, n + 1):
                    numbers.append(numbers[-1] + numbers[-2])
                return numbers[n]
        """,
        on_request="""
            def on_request(ch, method, properties, body):
                answer = str(fib(int(body.decode()))).encode()
                reply_props = pika.BasicProperties(correlation_id=properties.correlation_id)
                ch.basic_publish("", properties.reply_to, answer, reply_props)
                ch.basic_ack(method.delivery_tag)
        """,
        client="""
            class FibonacciClient:
                def __init__(self, url):
                    self.connection = pika.BlockingConnection(pika.URLParameters(url))
                    self.channel = self.connection.channel()
                    self.callback_queue = self.channel.queue_declare("", exclusive=True).method.queue

                def call(self, n, timeout=5.0):
                    wanted = uuid.uuid4().hex
                    self.channel.basic_publish(
                        "", "rpc_queue", str(n),
                        pika.BasicProperties(reply_to=self.callback_queue, correlation_id=wanted,
                                             expiration=str(int(timeout * 1000))))
                    deadline = time.monotonic() + timeout
                    try:
                        while True:
                            left = deadline - time.monotonic()
                            if left <= 0:
                                raise TimeoutError(f"fib({n}): no reply in {timeout} s")
                            for method, props, body in self.channel.consume(
                                    self.callback_queue, auto_ack=True, inactivity_timeout=left):
                                break
                            if method is not None and props.correlation_id == wanted:
                                return int(body)
                    finally:
                        self.channel.cancel()

                def close(self):
                    self.connection.close()
        """,
    ),
    correct(
        "basic_get polling on the callback queue",
        client="""
            class FibonacciClient:
                POLL = 0.02

                def __init__(self, url):
                    self.connection = pika.BlockingConnection(pika.URLParameters(url))
                    self.channel = self.connection.channel()
                    self.callback_queue = self.channel.queue_declare(queue="", exclusive=True).method.queue

                def call(self, n, timeout=5.0):
                    correlation_id = str(uuid.uuid4())
                    self.channel.basic_publish(
                        exchange="", routing_key="rpc_queue", body=str(n),
                        properties=pika.BasicProperties(reply_to=self.callback_queue, correlation_id=correlation_id))
                    deadline = time.monotonic() + timeout
                    while time.monotonic() < deadline:
                        method, props, body = self.channel.basic_get(queue=self.callback_queue, auto_ack=True)
                        if method is None:
                            time.sleep(self.POLL)
                        elif props.correlation_id == correlation_id:
                            return int(body)
                    raise TimeoutError("fib(%d) timed out" % n)

                def close(self):
                    if self.connection.is_open:
                        self.connection.close()
        """,
    ),
    correct(
        "a dict of pending calls keyed by correlation id",
        fib="""
            def fib(n):
                if n < 0:
                    raise ValueError("n must be >= 0")
                previous, current = 1, 0
                while n > 0:
                    previous, current = current, previous + current
                    n -= 1
                return current
        """,
        client="""
            class FibonacciClient:
                def __init__(self, url):
                    self.connection = pika.BlockingConnection(pika.URLParameters(url))
                    self.channel = self.connection.channel()
                    self.callback_queue = self.channel.queue_declare(queue="", exclusive=True).method.queue
                    self.replies = {}
                    self.channel.basic_consume(self.callback_queue, self._on_reply, auto_ack=True)

                def _on_reply(self, channel, method, properties, body):
                    if properties.correlation_id in self.replies:
                        self.replies[properties.correlation_id] = body

                def call(self, n, timeout=5.0):
                    key = str(uuid.uuid4())
                    self.replies[key] = None
                    self.channel.basic_publish(
                        exchange="", routing_key="rpc_queue", body=str(n).encode(),
                        properties=pika.BasicProperties(reply_to=self.callback_queue, correlation_id=key))
                    give_up = time.monotonic() + timeout
                    try:
                        while self.replies[key] is None and time.monotonic() < give_up:
                            self.connection.process_data_events(time_limit=max(0.0, give_up - time.monotonic()))
                        if self.replies[key] is None:
                            raise TimeoutError(n)
                        return int(self.replies[key].decode())
                    finally:
                        del self.replies[key]

                def close(self):
                    self.connection.close()
        """,
    ),
    correct(
        "call_later timer flags the timeout",
        on_request="""
            def on_request(channel, method, props, body):
                number = int(body)
                channel.basic_publish(exchange="", routing_key=props.reply_to, body=f"{fib(number)}",
                                      properties=pika.BasicProperties(correlation_id=props.correlation_id))
                channel.basic_ack(delivery_tag=method.delivery_tag)
        """,
        client="""
            class FibonacciClient:
                def __init__(self, url):
                    self.connection = pika.BlockingConnection(pika.URLParameters(url))
                    self.channel = self.connection.channel()
                    declared = self.channel.queue_declare(queue="", exclusive=True)
                    self.callback_queue = declared.method.queue
                    self.channel.basic_consume(queue=self.callback_queue, on_message_callback=self.on_response,
                                               auto_ack=True)
                    self.waiting_for = None
                    self.answer = None
                    self.timed_out = False

                def on_response(self, ch, method, props, body):
                    if props.correlation_id == self.waiting_for:
                        self.answer = int(body)

                def _expire(self):
                    self.timed_out = True

                def call(self, n, timeout=5.0):
                    self.waiting_for, self.answer, self.timed_out = str(uuid.uuid4()), None, False
                    self.channel.basic_publish(
                        exchange="", routing_key="rpc_queue", body=str(n),
                        properties=pika.BasicProperties(reply_to=self.callback_queue,
                                                        correlation_id=self.waiting_for))
                    timer = self.connection.call_later(timeout, self._expire)
                    while self.answer is None and not self.timed_out:
                        self.connection.process_data_events(time_limit=0.1)
                    self.connection.remove_timeout(timer)
                    if self.answer is None:
                        raise TimeoutError("fib(%d): no answer" % n)
                    return self.answer

                def close(self):
                    self.connection.close()
        """,
    ),
    correct(
        "the server rejects a body that is no number, and acks the others with multiple=True after replying",
        on_request="""
            def on_request(ch, method, properties, body):
                try:
                    n = int(body)
                except ValueError:
                    ch.basic_reject(delivery_tag=method.delivery_tag, requeue=False)  # no answer will ever come
                    return
                ch.basic_publish(exchange="", routing_key=properties.reply_to, body=str(fib(n)).encode(),
                                 properties=pika.BasicProperties(correlation_id=properties.correlation_id))
                ch.basic_ack(delivery_tag=method.delivery_tag, multiple=True)
        """,
    ),
    wrong("fib by the textbook recursion", {"check-fib"},
          fib="def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)"),
    wrong("fib starts at 1, 1", {"check-fib"},
          fib=FIB.replace("a, b = 0, 1", "a, b = 1, 1")),
    wrong("the server never acknowledges", {"check-on-request"},
          on_request=ON_REQUEST.replace("    ch.basic_ack(delivery_tag=method.delivery_tag)\n", "")),
    wrong("the server acks before replying", {"check-on-request"},
          on_request=ON_REQUEST.replace("    ch.basic_ack(delivery_tag=method.delivery_tag)\n", "").replace(
              "    response = fib(n)\n", "    response = fib(n)\n    ch.basic_ack(delivery_tag=method.delivery_tag)\n")),
    wrong("the reply carries no correlation_id",
          {"check-on-request", "check-client-call", "check-client-stray"},
          on_request=ON_REQUEST.replace(
              "properties=pika.BasicProperties(correlation_id=properties.correlation_id),", "")),
    wrong("the server publishes the int, not text", {"check-on-request", "check-client-call"},
          on_request=ON_REQUEST.replace("body=str(response)", "body=response")),
    wrong("the client keeps any reply, whatever its correlation id", {"check-client-stray"},
          client=CLIENT.replace("        if self.corr_id == props.correlation_id:\n            self.response = body",
                                "        self.response = body")),
    wrong("the client waits with process_data_events() and no time limit (pika 0.x tutorial)",
          {"check-client-timeout"},
          client=CLIENT.replace("""        deadline = time.monotonic() + timeout
        while self.response is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer to fib(%d) within %s s" % (n, timeout))
            self.connection.process_data_events(time_limit=remaining)""", """        while self.response is None:
            self.connection.process_data_events()""")),
    wrong("the client returns the body bytes", {"check-client-call"},
          client=CLIENT.replace("return int(self.response)", "return self.response")),
    wrong("the client returns None on timeout", {"check-client-timeout"},
          client=CLIENT.replace('raise TimeoutError("no answer to fib(%d) within %s s" % (n, timeout))',
                                "return None")),
    wrong("the client waits once for the whole timeout, not in a loop", {"check-client-stray"},
          client=CLIENT.replace("""        deadline = time.monotonic() + timeout
        while self.response is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer to fib(%d) within %s s" % (n, timeout))
            self.connection.process_data_events(time_limit=remaining)""", """        self.connection.process_data_events(time_limit=timeout)
        if self.response is None:
            raise TimeoutError("no answer")""")),
    wrong("the client raises its own exception class", {"check-client-timeout"},
          client="class RpcTimeout(Exception):\n    pass\n\n" + CLIENT.replace(
              'raise TimeoutError("no answer to fib(%d) within %s s" % (n, timeout))', 'raise RpcTimeout(n)')),
    wrong("the callback queue is durable, not exclusive", {"check-client-call"},
          client=CLIENT.replace('queue_declare(queue="", exclusive=True)', 'queue_declare(queue="", durable=True)')),
]
