"""immat.frozen: the shared __eq__, __hash__ and __repr__ behave as the ones attrs would have compiled."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from immat.frozen import frozen


def _pair(**options):
    """The same class made by attrs alone and by immat.frozen."""
    def body():
        return {"__annotations__": {"a": "int", "b": "tuple", "where": "object"},
                "where": attrs.field(default=None, eq=False, repr=False)}
    return attrs.frozen(type("Node", (), body()), **options), frozen(type("Node", (), body()), **options)


REFERENCE, SHARED = _pair()
VALUES = st.tuples(st.integers(-3, 3), st.tuples(st.integers(0, 2)), st.sampled_from([None, "x", 1]))


@given(VALUES, VALUES)
def test_equality_and_hash_are_attrs_own(x, y):
    ref_x, ref_y, ours_x, ours_y = REFERENCE(*x), REFERENCE(*y), SHARED(*x), SHARED(*y)
    assert (ours_x == ours_y) is (ref_x == ref_y)  # « where » (eq=False) plays no part
    assert (ours_x != ours_y) is (ref_x != ref_y)
    if ours_x == ours_y:
        assert hash(ours_x) == hash(ours_y)


@given(VALUES)
def test_text_is_attrs_own(x):
    assert repr(SHARED(*x)) == repr(REFERENCE(*x))


def test_another_class_with_the_same_fields_is_not_equal():
    other = frozen(type("Node", (), {"__annotations__": {"a": "int", "b": "tuple"}}))
    assert SHARED(1, ()) != other(1, ())
    assert SHARED(1, ()) != (1, ())


def test_a_subclass_compares_its_own_fields():
    base = frozen(type("Base", (), {"__annotations__": {"a": "int"}}))
    child = frozen(type("Child", (base,), {"__annotations__": {"b": "int"}}))
    assert child(1, 2) == child(1, 2) != child(1, 3)
    assert child(1, 2) != base(1)
    assert repr(child(1, 2)) == "Child(a=1, b=2)"


def test_eq_false_compares_by_identity():
    ours = frozen(type("Source", (), {"__annotations__": {"text": "str"}}), eq=False)
    one = ours("x")
    assert one == one and one != ours("x")
    assert len({one, ours("x")}) == 2


def test_instances_stay_frozen():
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        SHARED(1, ()).a = 2
