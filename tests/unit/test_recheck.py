import pytest

from workflows.executions import next_execution_name


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("snp_1", "snp_1-v2"),
        ("snp_1-v2", "snp_1-v3"),
        ("snp_1-v9", "snp_1-v10"),
        ("something-else", "snp_1-v2"),
    ],
)
def test_execution_names_stay_traceable(current: str, expected: str) -> None:
    assert next_execution_name(current, "snp_1") == expected
