"""The ids a table shows (selection.copyable_ids): each the shortest prefix of at least 8
characters that no other session's id starts with, found by one walk over the sorted ids."""

import uuid

from hypothesis import given, strategies as st

from drvtape.cli.selection import SHORTEST_ID, copyable_ids


def shortest_unique_prefix(text: str, others: list[str]) -> str:
    """By definition: the first length from SHORTEST_ID on that no other id starts with."""
    return next(text[:n] for n in range(SHORTEST_ID, len(text) + 1)
                if not any(o.startswith(text[:n]) for o in others if o != text))


class _Ids:
    def __init__(self, every: list[uuid.UUID]):
        self.every = every

    def session_ids(self) -> list[str]:
        return sorted(map(str, self.every))


# ids that share long prefixes: few hex digits, so that neighbours often agree past 8 characters
near_ids = st.lists(st.text("0f", min_size=32, max_size=32).map(lambda h: uuid.UUID(hex=h)), unique=True,
                    min_size=1, max_size=40)


@given(near_ids, st.data())
def test_each_shown_id_is_its_shortest_unique_prefix(every, data):
    listed = data.draw(st.lists(st.sampled_from(every), unique=True))
    texts = [str(i) for i in every]
    expected = {i: shortest_unique_prefix(str(i), texts) for i in listed}
    assert copyable_ids(_Ids(every), listed, every=False) == expected
    assert copyable_ids(None, every, every=True) == {i: shortest_unique_prefix(str(i), texts) for i in every}
    assert copyable_ids(None, listed, every=False, wide=True) == {i: str(i) for i in listed}
