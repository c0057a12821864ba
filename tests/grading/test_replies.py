"""Replies from a submission's process are plain data, validated before any judge sees them."""
import json

import numpy as np
import pytest

from coursekit.grading.checks import Check
from coursekit.grading.replies import MissingReply, Reply, ReplyError, write_reply


class Liar(np.ndarray):
    def __eq__(self, other):
        return True


def test_values_and_arrays_round_trip_as_plain_types(tmp_path):
    liar = np.arange(6, dtype=np.float64).reshape(2, 3).view(Liar)
    write_reply(tmp_path, "c", {"n": 3, "f": 0.5, "ok": True, "names": ["a"], "x": liar, "i": np.int64(4)})
    reply = Reply.of(tmp_path, "c")
    x = reply.array("x", (2, None))
    assert type(x) is np.ndarray and x.dtype == np.float32 and not (x == np.zeros((2, 3))).all()
    assert reply.number("n") == 3 and reply.number("i") == 4 and reply.flag("ok") is True
    assert reply.strings("names") == ["a"]
    assert not list(tmp_path.glob(".*partial"))  # written whole, then renamed into place


def test_wrong_types_shapes_and_sizes_are_refused(tmp_path):
    write_reply(tmp_path, "c", {"flag": 1, "number": True, "text": 5, "x": np.zeros((2, 2))})
    reply = Reply(tmp_path, "c")
    with pytest.raises(ReplyError, match="not true/false"):
        reply.flag("flag")
    with pytest.raises(ReplyError, match="not a number"):
        reply.number("number")
    with pytest.raises(ReplyError, match="not text"):
        reply.text("text")
    with pytest.raises(ReplyError, match=r"shape \(2, 2\), want \(3, 2\)"):
        reply.array("x", (3, 2))
    with pytest.raises(ReplyError, match="no array y"):
        reply.array("y")


def test_a_pickled_or_object_array_is_never_loaded(tmp_path):
    write_reply(tmp_path, "c", {})
    np.save(tmp_path / "c" / "x.npy", np.array([{"fraction": 1.0}], dtype=object), allow_pickle=True)
    with pytest.raises(ReplyError, match="cannot be read"):
        Reply(tmp_path, "c").array("x")


def test_oversized_missing_and_failed_replies(tmp_path, monkeypatch):
    import coursekit.grading.replies as replies

    with pytest.raises(MissingReply, match="never finished"):
        Reply(tmp_path, "absent")
    write_reply(tmp_path, "failed", {"error": "ZeroDivisionError: division by zero (at models.py:3)"})
    with pytest.raises(ReplyError, match="ZeroDivisionError"):
        Reply.of(tmp_path, "failed")
    write_reply(tmp_path, "big", {"x": np.zeros(1000)})
    monkeypatch.setattr(replies, "MAX_REPLY_BYTES", 100)
    with pytest.raises(ReplyError, match="limit"):
        Reply(tmp_path, "big")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "values.json").write_text("[1, 2]")
    monkeypatch.setattr(replies, "MAX_REPLY_BYTES", 1 << 20)
    with pytest.raises(ReplyError, match="not a JSON object"):
        Reply(tmp_path, "bad")


def test_a_check_judges_only_what_its_collect_half_wrote():
    """The judge sees the reply's values, never the object the student's code returned."""
    class Sneaky(float):
        def __eq__(self, other):
            return True

    check = Check("c", lambda ctx: {"accuracy": Sneaky(0.25)},
                  lambda replies, kit: (float(replies("c").number("accuracy") == 0.25), "compared"))
    assert check(None) == (1.0, "compared")
    check = Check("c", lambda ctx: {"accuracy": Sneaky(0.25)},
                  lambda replies, kit: (float(replies("c").number("accuracy") == 0.9), "compared"))
    assert check(None) == (0.0, "compared")
    assert json.dumps(0.25) == "0.25"
