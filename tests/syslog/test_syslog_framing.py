"""TCP framing: octet counting and newlines, however the stream is cut, in bounded memory."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.syslog.framing import StreamFramer

LINE = b"<3>*Dec 6 21:35:24.327: AP image integrity check FAILED"


def counted(msg: bytes) -> bytes:
    return str(len(msg)).encode() + b" " + msg


def feed_in_chunks(framer: StreamFramer, data: bytes, size: int) -> list[bytes]:
    out: list[bytes] = []
    for i in range(0, len(data), size):
        out += framer.feed(data[i : i + size])
    return out + framer.close()


def test_newline_framing_with_crlf_and_blank_lines() -> None:
    framer = StreamFramer(1024)
    assert framer.feed(LINE + b"\r\n\n" + LINE + b"\n") == [LINE, LINE]
    assert framer.buffered == 0


def test_octet_counting_including_embedded_newlines() -> None:
    msg = b"<3>line with\nnewline inside"
    framer = StreamFramer(1024)
    assert framer.feed(counted(msg) + counted(LINE)) == [msg, LINE]


def test_mixed_framing_on_one_connection() -> None:
    framer = StreamFramer(1024)
    data = counted(LINE) + LINE + b"\n" + counted(LINE)
    assert framer.feed(data) == [LINE, LINE, LINE]


def test_cisco_sequence_number_is_not_a_length() -> None:
    framer = StreamFramer(1024)
    assert framer.feed(b"52: AP3702-1: hello\n") == [b"52: AP3702-1: hello"]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_any_chunking_gives_the_same_frames(size: int) -> None:
    data = counted(LINE) + LINE + b"\n" + counted(b"<1>x") + b"<1>last\n"
    assert feed_in_chunks(StreamFramer(1024), data, size) == [LINE, LINE, b"<1>x", b"<1>last"]


def test_oversized_counted_frame_is_skipped_without_buffering() -> None:
    framer = StreamFramer(100)
    big = b"A" * 5000
    frames = []
    for i in range(0, len(counted(big)), 512):
        frames += framer.feed(counted(big)[i : i + 512])
        assert framer.buffered <= 512
    frames += framer.feed(counted(LINE))
    assert frames == [LINE]
    assert framer.oversized == 1


def test_oversized_newline_frame_is_discarded_to_its_end() -> None:
    framer = StreamFramer(100)
    frames = []
    for _ in range(50):
        frames += framer.feed(b"B" * 100)
        assert framer.buffered <= 102
    frames += framer.feed(b"tail of the big one\n" + LINE + b"\n")
    assert frames == [LINE]
    assert framer.oversized == 1


def test_a_long_line_and_the_next_one_in_a_single_chunk() -> None:
    framer = StreamFramer(100)
    assert framer.feed(b"C" * 5000 + b"\n" + LINE + b"\n") == [LINE]
    assert framer.oversized == 1


def test_a_frame_exactly_at_the_bound_passes() -> None:
    framer = StreamFramer(len(LINE))
    assert framer.feed(LINE + b"\n" + counted(LINE)) == [LINE, LINE]
    assert framer.oversized == 0


def test_close_flushes_a_last_line_without_newline_and_a_cut_counted_frame() -> None:
    framer = StreamFramer(1024)
    assert framer.feed(LINE) == []
    assert framer.close() == [LINE]
    framer = StreamFramer(1024)
    assert framer.feed(b"100 <3>cut short") == []
    assert framer.close() == [b"<3>cut short"]


def test_bad_bound() -> None:
    with pytest.raises(ValueError):
        StreamFramer(0)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000), st.integers(min_value=1, max_value=600))
def test_fuzz_stream_never_raises_and_frames_stay_bounded(data: bytes, chunk: int) -> None:
    framer = StreamFramer(200)
    for i in range(0, len(data), chunk):
        for frame in framer.feed(data[i : i + chunk]):
            assert 0 < len(frame) <= 200
        assert framer.buffered <= 200 + 12 + chunk
    for frame in framer.close():
        assert 0 < len(frame) <= 200


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=150).filter(lambda b: b.strip() != b""), max_size=20),
    st.integers(min_value=1, max_value=50),
)
def test_fuzz_octet_counted_messages_round_trip(messages: list[bytes], chunk: int) -> None:
    data = b"".join(counted(m) for m in messages)
    assert feed_in_chunks(StreamFramer(200), data, chunk) == messages
