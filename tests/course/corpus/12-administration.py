"""Lesson 12, administration. Unlike the other lessons' corpora, these answers were written by the
lesson's author after the lesson (no independent author has covered it yet): variants a student
may well write, among them `rabbitmqctl`'s habit of empty patterns, which RabbitMQ reads as "^$"."""

from tests.course.corpus import makers

L = "12-administration"

VHOST = 'created = call("PUT", "vhosts/" + quote(LESSON_VHOST, safe=""))'
USER = 'made_user = call("PUT", "users/" + quote(READER, safe=""), {"password": READER_PASSWORD, "tags": ""})'
PERMISSIONS = """
path = "permissions/" + quote(LESSON_VHOST, safe="") + "/"
mine = call("PUT", path + quote(ADMIN, safe=""), {"configure": ".*", "write": ".*", "read": ".*"})
theirs = call("PUT", path + quote(READER, safe=""), {"configure": "^$", "write": "^$", "read": "^reports$"})
"""
REFUSED = """
with pika.BlockingConnection(pika.URLParameters(reader_url)) as as_reader:
    first = as_reader.channel()
    _, _, report = first.basic_get("reports", auto_ack=True)
    try:
        first.queue_declare("mine", durable=True)
    except pika.exceptions.ChannelClosedByBroker as error:
        declare_refused = error.reply_code
    try:
        as_reader.channel().basic_get("secrets", auto_ack=True)
    except pika.exceptions.ChannelClosedByBroker as error:
        read_refused = error.reply_code
"""
POLICY = """
policy = call("PUT", "policies/" + quote(LESSON_VHOST, safe="") + "/reports-limit",
              {"pattern": "^reports$", "definition": {"max-length": 2}, "apply-to": "queues"})
"""
CLEANUP = """
user_deleted = call("DELETE", "users/" + quote(READER, safe=""))
vhost_deleted = call("DELETE", "vhosts/" + quote(LESSON_VHOST, safe=""))
"""


correct, wrong = makers(
    L, vhost=VHOST, user=USER, permissions=PERMISSIONS, refused=REFUSED, policy=POLICY, cleanup=CLEANUP)


CORPUS = [
    correct("with the lesson's call() helper"),
    correct("empty patterns, as rabbitmqctl set_permissions \"\" \"\" \"^reports$\" writes them",
            permissions=PERMISSIONS.replace('{"configure": "^$", "write": "^$", "read": "^reports$"}',
                                            '{"configure": "", "write": "", "read": "^reports$"}')),
    correct("requests directly, with the management credentials",
            vhost='created = requests.put(f"{BASE}/api/vhosts/{quote(LESSON_VHOST, safe=\'\')}", '
                  'auth=(ADMIN, ADMIN_PASSWORD), timeout=10)',
            cleanup='user_deleted = requests.delete(f"{BASE}/api/users/{READER}", auth=(ADMIN, ADMIN_PASSWORD))\n'
                    'vhost_deleted = requests.delete(f"{BASE}/api/vhosts/{quote(LESSON_VHOST, safe=\'\')}", '
                    'auth=(ADMIN, ADMIN_PASSWORD))'),
    wrong("the reader may configure everything", {"check-permissions", "check-refused"},
          permissions=PERMISSIONS.replace('{"configure": "^$", "write": "^$"', '{"configure": ".*", "write": "^$"')),
    wrong("a policy for exchanges", {"check-policy"}, policy=POLICY.replace('"queues"', '"exchanges"')),
]
