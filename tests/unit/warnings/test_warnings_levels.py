"""The four levels: order, names, and room for every one of them where they are stored."""
import pytest

from services.warnings import tables
from services.warnings.domain.rules.base import ORDINARY_LEVELS
from shared.academic.vocabulary import LEVEL_TITLE_ZH, LEVEL_ZH, LEVELS, TOP_ORDINARY_LEVEL, level_rank


def test_dismissal_is_the_level_above_red_and_rules_stop_at_red():
    assert LEVELS == ("yellow", "orange", "red", "dismissal")
    assert [level_rank(level) for level in (None, "none", *LEVELS)] == [0, 0, 1, 2, 3, 4]
    assert ORDINARY_LEVELS == ("yellow", "orange", "red") and TOP_ORDINARY_LEVEL == "red"
    assert LEVEL_ZH["dismissal"] == "退学警示" and LEVEL_TITLE_ZH["dismissal"] == "退学警示"
    assert set(LEVEL_ZH) == set(LEVEL_TITLE_ZH) == set(LEVELS)


@pytest.mark.parametrize("column", [tables.warnings.c.level, tables.warning_changes.c.old_level,
                                    tables.warning_changes.c.new_level], ids=str)
def test_every_level_fits_the_columns_that_store_it(column):
    # PostgreSQL refuses a value longer than VARCHAR(n); SQLite would not notice.
    assert column.type.length >= max(len(level) for level in LEVELS + ("none",))
