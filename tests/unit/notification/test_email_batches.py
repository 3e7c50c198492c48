"""The e-mail channel's batches against a real local SMTP server (aiosmtpd), with and without PIPELINING: one session
and one checkpoint per batch, one write per message when pipelining, a refusal in the middle ends only its own
message, and a failure midway tells the message in doubt from those never completed."""
import smtplib
from email import message_from_bytes, policy

import pytest

from services.notification.channels.base import OutgoingMessage
from services.notification.channels.email import EmailChannel
from tests.unit.notification.standins import Hold, SmtpStandIn, free_port

FROM = "学院教务办公室 <jwb@college.example>"


def batch(count: int) -> list[OutgoingMessage]:
    return [OutgoingMessage(key=f"N-{n:04d}", recipient_id=f"21030100{n}", subject=f"学业预警通知 {n}",
                            text=f"同学你好：\n第 {n} 封。\n", html=f"<p>第 {n} 封</p>", address=f"s{n}@stu.example.edu.cn")
            for n in range(count)]


@pytest.fixture(params=[False, True], ids=["plain", "pipelining"])
def server(request):
    with SmtpStandIn(pipelining=request.param) as stand_in:
        yield stand_in


@pytest.fixture
def writes(monkeypatch):
    """Every write the client makes; smtplib's own commands (EHLO, QUIT) are text, the channel's are bytes."""
    sent = []
    original = smtplib.SMTP.send

    def send(self, data):
        sent.append(data)
        return original(self, data)
    monkeypatch.setattr(smtplib.SMTP, "send", send)
    return sent


class Checkpoints:
    """A batch checkpoint that records its calls and owns ``held`` (default: everything)."""

    def __init__(self, held=None):
        self.calls, self.held = [], held

    def __call__(self, keys):
        self.calls.append(list(keys))
        return [key for key in keys if self.held is None or key in self.held]


def channel_for(server, **settings) -> EmailChannel:
    return EmailChannel({"smtp_url": server.url, "from": FROM, "timeout": 5, **settings})


def received_keys(server, channel, messages):
    ids = {channel.message_id(m.key): m.key for m in messages}
    return [ids[message_from_bytes(raw, policy=policy.default)["Message-ID"]] for _, _, raw in server.received]


def test_a_batch_goes_on_one_session_with_one_checkpoint(server, writes):
    channel, messages, checkpoint = channel_for(server), batch(5), Checkpoints()
    results = channel.deliver_batch(messages, checkpoint)
    writes = [w for w in writes if isinstance(w, bytes)]
    assert [r.status for r in results] == ["sent"] * 5
    assert [r.reference for r in results] == [channel.message_id(m.key) for m in messages]
    assert checkpoint.calls == [[m.key for m in messages]]            # once, before the first final "."
    assert received_keys(server, channel, messages) == [m.key for m in messages]
    assert [tos for _, tos, _ in server.received] == [[m.address] for m in messages]
    if server.pipelining:
        # MAIL, RCPT and DATA in one write; each message's data and "." carry the next message's envelope: one
        # write a message, plus the first envelope and the first "." (after the checkpoint) on their own.
        assert writes[0] == b"MAIL FROM:<jwb@college.example>\r\nRCPT TO:<s0@stu.example.edu.cn>\r\nDATA\r\n"
        assert writes[2] == b".\r\nMAIL FROM:<jwb@college.example>\r\nRCPT TO:<s1@stu.example.edu.cn>\r\nDATA\r\n"
        assert len(writes) == 5 + 2
    else:
        # MAIL, RCPT, DATA each waiting for the one before; the data and its "." in one write after the first.
        assert writes[:3] == [b"MAIL FROM:<jwb@college.example>\r\n", b"RCPT TO:<s0@stu.example.edu.cn>\r\n",
                              b"DATA\r\n"]
        assert writes[4] == b".\r\n" and writes[8].endswith(b"--\r\n.\r\n")
        assert len(writes) == 4 * 5 + 1
    assert len(channel._idle) == 1                                      # the session is kept for the next batch


def test_a_refused_recipient_ends_only_its_own_message(server):
    channel, messages = channel_for(server), batch(4)
    server.rcpt_replies[messages[1].address] = ["550 5.1.1 No such mailbox"]
    server.rcpt_replies[messages[2].address] = ["451 4.7.1 Greylisted, try again later"]
    results = channel.deliver_batch(messages, Checkpoints())
    assert [r.status for r in results] == ["sent", "failed_permanent", "failed_temporary", "sent"]
    assert "550" in results[1].detail and "s***@stu.example.edu.cn" in results[1].detail
    assert messages[1].address not in results[1].detail
    assert received_keys(server, channel, messages) == [messages[0].key, messages[3].key]
    assert len(channel._idle) == 1                                      # RSET left the session usable


def test_a_refused_first_recipient_moves_the_checkpoint_to_the_next_message(server):
    channel, messages, checkpoint = channel_for(server), batch(3), Checkpoints()
    server.rcpt_replies[messages[0].address] = ["550 5.1.1 No such mailbox"]
    results = channel.deliver_batch(messages, checkpoint)
    assert [r.status for r in results] == ["failed_permanent", "sent", "sent"]
    assert checkpoint.calls == [[messages[1].key, messages[2].key]]


def test_a_refused_message_ends_only_itself(server):
    channel, messages = channel_for(server), batch(3)
    server.data_replies[messages[1].address] = ["554 5.7.1 Message rejected as spam"]
    results = channel.deliver_batch(messages, Checkpoints())
    assert [r.status for r in results] == ["sent", "failed_permanent", "sent"]
    assert received_keys(server, channel, messages) == [messages[0].key, messages[2].key]


def test_messages_this_sender_no_longer_owns_are_abandoned_and_never_arrive(server):
    channel, messages = channel_for(server), batch(4)
    checkpoint = Checkpoints(held={messages[0].key, messages[2].key})
    results = channel.deliver_batch(messages, checkpoint)
    assert [r.status for r in results] == ["sent", "abandoned", "sent", "abandoned"]
    assert received_keys(server, channel, messages) == [messages[0].key, messages[2].key]


def test_when_the_first_message_is_not_owned_nothing_is_sent(server):
    channel, messages = channel_for(server), batch(3)
    results = channel.deliver_batch(messages, Checkpoints(held={messages[1].key}))
    # The session is dropped without the first message's "."; the one still owned was not sent either, so it is
    # tried again (temporary), never in doubt.
    assert [r.status for r in results] == ["abandoned", "failed_temporary", "abandoned"]
    assert not any(r.in_doubt for r in results)
    assert server.received == [] and channel._idle == []


def test_a_lost_answer_leaves_that_message_in_doubt_and_the_rest_to_try_again(server):
    channel, messages = channel_for(server, timeout=1), batch(4)
    server.hold_after_data[messages[1].address] = Hold()
    results = channel.deliver_batch(messages, Checkpoints())
    server.hold_after_data[messages[1].address].release()
    assert [r.status for r in results] == ["sent", "failed_temporary", "failed_temporary", "failed_temporary"]
    assert [r.in_doubt for r in results] == [False, True, False, False]
    assert "no reply after the data" in results[1].detail
    assert received_keys(server, channel, messages) == [messages[0].key, messages[1].key]   # it did arrive
    assert channel._idle == []


def test_no_server_fails_the_whole_batch_temporarily():
    channel = EmailChannel({"smtp_url": f"smtp://127.0.0.1:{free_port()}", "from": FROM, "timeout": 2})
    checkpoint = Checkpoints()
    results = channel.deliver_batch(batch(3), checkpoint)
    assert [r.status for r in results] == ["failed_temporary"] * 3 and checkpoint.calls == []


def test_messages_that_cannot_be_written_fail_permanently_without_stopping_the_batch(server):
    channel, messages = channel_for(server), batch(4)
    messages[1] = OutgoingMessage(**{**messages[1].__dict__, "address": None})
    messages[2] = OutgoingMessage(**{**messages[2].__dict__, "address": "学生@stu.example.edu.cn"})
    results = channel.deliver_batch(messages, Checkpoints())
    assert [r.status for r in results] == ["sent", "failed_permanent", "failed_permanent", "sent"]
    assert "no e-mail address" in results[1].detail and "cannot be sent" in results[2].detail
    assert received_keys(server, channel, messages) == [messages[0].key, messages[3].key]


def test_a_failing_checkpoint_drops_the_session_without_the_final_dot(server, writes):
    channel, messages = channel_for(server), batch(2)

    def database_down(keys):
        raise RuntimeError("the database went away")         # as psycopg2.OperationalError: no OSError
    with pytest.raises(RuntimeError):
        channel.deliver_batch(messages, database_down)
    # The data went out, then nothing: neither its "." nor a QUIT, which the server would take as more data.
    assert writes[-1].endswith(b"--\r\n") and channel._idle == []
    assert server.received == []
