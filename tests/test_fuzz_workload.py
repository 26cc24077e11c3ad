"""Hostile workload TOML (issue 4, part 6): parse_workload gives a Workload or a DrvtapeError
naming the file, never any other exception. Property-based and bounded."""

from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drvtape.errors import DrvtapeError
from drvtape.recorder.workload import Workload, parse_workload

SOURCE = "fuzz.toml"
BUNDLED = sorted(p.name for p in (resources.files("drvtape") / "workloads").iterdir() if p.name.endswith(".toml"))
VALID = [(resources.files("drvtape") / "workloads" / name).read_text(encoding="utf-8") for name in BUNDLED]
VALID.append('''
[[steps]]
action = "open"
instance = "a"
lparam1 = 0xFFFFFFFFFFFFFFFF
[[steps]]
action = "send"
instance = "a"
msg = "DRV_USER+1"
lparam2 = "config"
thread = "worker"
[[steps]]
action = "close"
instance = "a"
[[steps]]
action = "exit"
''')
BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(text: str) -> None:
    try:
        workload = parse_workload(text, SOURCE)
    except DrvtapeError as exc:
        assert str(exc).startswith(f"{SOURCE}: "), str(exc)
        return
    assert isinstance(workload, Workload) and workload.steps
    for step in workload.steps:
        assert step.msg is None or (type(step.msg) is int and 0 <= step.msg <= 0xFFFFFFFF)
        for value in (step.lparam1, step.lparam2):
            assert isinstance(value, str) or (type(value) is int and -(2**63) <= value < 2**63)


def test_the_valid_samples_parse():
    for text in VALID:
        assert parse_workload(text, SOURCE).steps


@BOUNDED
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    check(text)


TOML_ATOMS = st.sampled_from([
    "[[steps]]", "[steps]", "action = ", "instance = ", "msg = ", "lparam1 = ", "lparam2 = ", "thread = ",
    '"open"', '"send"', '"close"', '"shutdown"', '"exit"', '"a"', '"b"', "true", "1.5", "inf", "nan",
    "0xFFFFFFFFFFFFFFFF", "-9223372036854775809", "18446744073709551616", "9" * 5000, '"DRV_USER+99999999999"',
    '"DRV_OPEN"', '"-1"', '"\\u0000"', '"\\ud800"', "1979-05-27T07:32:00Z", "[1, 2]", "{a = 1}", "[" * 3000,
    "\n", "\n", "\n", "=", "#", "'''", '"', "\x00", "\ufeff",
])


@BOUNDED
@given(st.lists(TOML_ATOMS, max_size=30))
def test_toml_shaped_noise(atoms):
    check(" ".join(atoms))


@st.composite
def mutated(draw) -> str:
    lines = draw(st.sampled_from(VALID)).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        op = draw(st.sampled_from(["drop", "dup", "swap", "flip", "value", "insert"]))
        if not lines:
            lines = [""]
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "flip" and lines[i]:
            at = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:at] + draw(st.characters()) + lines[i][at + 1:]
        elif op == "value" and "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + draw(TOML_ATOMS)
        elif op == "insert":
            lines.insert(i, f"{draw(st.sampled_from(['action', 'msg', 'lparam1', 'instance', 'x']))} = "
                            f"{draw(TOML_ATOMS)}")
    return "\n".join(lines)


@BOUNDED
@given(mutated())
def test_mutations_of_valid_workloads(text):
    check(text)


@pytest.mark.parametrize("text", [
    "x = " + "[" * 100_000 + "]" * 100_000,  # a RecursionError inside tomllib
    "x = " + "{a = " * 5000 + "1" + "}" * 5000,
    '[[steps]]\naction = "send"\ninstance = "a"\nmsg = ' + "9" * 5000,  # beyond int()'s digit limit
], ids=["deep-array", "deep-inline-table", "5000-digits"])
def test_texts_that_once_escaped_as_other_exceptions(text):
    with pytest.raises(DrvtapeError, match=r"^fuzz\.toml: invalid TOML: "):
        parse_workload(text, SOURCE)


@pytest.mark.parametrize("field", ["msg", "lparam1", "lparam2"])
def test_a_boolean_is_not_a_number(field):
    text = f'[[steps]]\naction = "open"\ninstance = "a"\n[[steps]]\naction = "send"\ninstance = "a"\nmsg = 1\n'
    text = text.replace("msg = 1", f"msg = 1\n{field} = true") if field != "msg" else text.replace("1", "true")
    with pytest.raises(DrvtapeError, match="boolean"):
        parse_workload(text, SOURCE)
