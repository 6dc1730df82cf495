"""The incident catalogue: two levels, a deadline and a joint-handling office per category."""

from __future__ import annotations

import pytest

from geogrid.errors import DataError, InputError
from geogrid.incidents.catalogue import Catalogue, Category, default_catalogue, read_catalogue


def test_the_default_covers_city_management_disputes_and_petitions():
    cat = default_catalogue()
    majors = cat.majors()
    assert {"市容环境", "街面秩序", "公用设施", "矛盾纠纷", "信访"} <= set(majors)
    assert len(cat) >= 40
    for c in cat:
        assert c.code[:2] == next(iter(majors[c.major])).code[:2]  # one major class per prefix
        assert c.minor_en and c.major_en and c.office
    assert cat.get("1101").workdays > cat.get("0101").workdays  # a petition takes longer


def test_codes_are_unique_and_checked(tmp_path):
    good = Category("0101", "市容环境", "City", "暴露垃圾", "Rubbish", 1, "环卫所")
    with pytest.raises(InputError, match="appears twice"):
        Catalogue([good, good])
    with pytest.raises(InputError, match="4 digits"):
        Catalogue([Category("1", "a", "a", "b", "b", 1, "o")])
    with pytest.raises(InputError, match="1 to 40 working days"):
        Catalogue([Category("0102", "a", "a", "b", "b", 0, "o")])
    with pytest.raises(InputError, match="office is empty"):
        Catalogue([Category("0103", "a", "a", "b", "b", 2, " ")])


def test_a_file_that_is_not_a_catalogue_is_a_clear_error(tmp_path):
    bad = tmp_path / "cat.csv"
    bad.write_text("code,name\n0101,x\n", encoding="utf-8")
    with pytest.raises(DataError, match="not a category catalogue"):
        read_catalogue(bad)
    bad.write_text(
        "code,major,major_en,minor,minor_en,workdays,office\n0101,a,a,b,b,soon,o\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match="not a category catalogue"):
        read_catalogue(bad)
