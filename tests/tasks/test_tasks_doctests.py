"""The examples written in the tasks package's docstrings run as shown."""

import doctest

import pytest

from minigrad import tasks
import minigrad.tasks.vocab


@pytest.mark.parametrize("module", [tasks, tasks.vocab])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
