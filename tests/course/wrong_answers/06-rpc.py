"""Plausible mistakes in lesson 6, and the checks that must catch them."""

from tests.course.autograding import WrongAnswer

CLIENT = '''
class FibonacciClient:
    def __init__(self, url):
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.callback_queue = self.channel.queue_declare(queue="", exclusive=True).method.queue
        self.channel.basic_consume(queue=self.callback_queue, on_message_callback=self.on_response, auto_ack=True)
        self.corr_id = None
        self.response = None

    def on_response(self, ch, method, properties, body):
        {keep}

    def call(self, n, timeout=5.0):
        self.corr_id, self.response = str(uuid.uuid4()), None
        self.channel.basic_publish(exchange="", routing_key="rpc_queue", body=str(n).encode(),
                                   properties=pika.BasicProperties(reply_to=self.callback_queue,
                                                                   correlation_id=self.corr_id))
        {wait}
        return int(self.response)

    def close(self):
        self.connection.close()
'''

CHECKS_ID = "if properties.correlation_id == self.corr_id:\n            self.response = body"
TAKES_ANY = "self.response = body  # whatever arrives first"
WAITS_WITH_DEADLINE = '''deadline = time.monotonic() + timeout
        while self.response is None:
            if time.monotonic() >= deadline:
                raise TimeoutError("no answer")
            self.connection.process_data_events(time_limit=deadline - time.monotonic())'''
WAITS_FOREVER = '''while self.response is None:  # as in the pika 0.x tutorial
            self.connection.process_data_events()'''
WAITS_ONE_SLICE = '''self.connection.process_data_events(time_limit=timeout)  # returns at the first event
        if self.response is None:
            raise TimeoutError("no answer")'''

WRONG_ANSWERS = [
    WrongAnswer(
        name="fib with the textbook recursion, too slow for fib(90)",
        cells={"fib": "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"},
        fails=frozenset({"check-fib"}),
    ),
    WrongAnswer(
        name="the server replies without copying the correlation_id",
        cells={
            "on-request": (
                "def on_request(ch, method, properties, body):\n"
                "    ch.basic_publish(exchange='', routing_key=properties.reply_to, body=str(fib(int(body))).encode())\n"
                "    ch.basic_ack(delivery_tag=method.delivery_tag)\n"
            )
        },
        # The course's client rightly ignores those replies, so its checks with this server fail too.
        fails=frozenset({"check-on-request", "check-client-call"}),
    ),
    WrongAnswer(
        name="the server acks the request (multiple=True) before it publishes the reply",
        cells={
            "on-request": (
                "def on_request(ch, method, properties, body):\n"
                "    ch.basic_ack(delivery_tag=method.delivery_tag, multiple=True)\n"
                "    ch.basic_publish(exchange='', routing_key=properties.reply_to, body=str(fib(int(body))).encode(),\n"
                "                     properties=pika.BasicProperties(correlation_id=properties.correlation_id))\n"
            )
        },
        fails=frozenset({"check-on-request"}),
    ),
    WrongAnswer(
        name="the client takes the first reply it sees, whatever its correlation_id",
        cells={"client": CLIENT.format(keep=TAKES_ANY, wait=WAITS_WITH_DEADLINE)},
        # The late reply in check-client-timeout may fool it too, but only when it arrives alone:
        # that depends on timing, so only the stray check is certain to catch it.
        fails=frozenset({"check-client-stray"}),
    ),
    WrongAnswer(
        name="the client waits for its reply forever, without a timeout",
        cells={"client": CLIENT.format(keep=CHECKS_ID, wait=WAITS_FOREVER)},
        fails=frozenset({"check-client-timeout"}),
    ),
    WrongAnswer(
        name="the client gives the whole timeout to one process_data_events, which returns at any reply",
        cells={"client": CLIENT.format(keep=CHECKS_ID, wait=WAITS_ONE_SLICE)},
        fails=frozenset({"check-client-timeout"}),
    ),
]
