"""The step kinds are registered once (conformance/engine/steps.py) and everything else follows
the registry: the case schema file, the step tables of testcases/README.md, and the runners'
handlers (kind `expect request` is carried out by `step_expect_request` of each of its roles)."""

from __future__ import annotations

import inspect

import pytest

from conformance.engine import steps
from conformance.engine.client_role import ClientRoleRun
from conformance.engine.runner import CaseRun
from conformance.engine.server_role import ServerRoleRun
from tests.harness.helpers import PYTHON, REPO, run

RUNNERS: dict[str, type[CaseRun]] = {steps.CLIENT: ClientRoleRun, steps.SERVER: ServerRoleRun}


def handlers(runner: type[CaseRun]) -> set[str]:
    """The `step_*` methods a runner has."""
    return {n for n, _ in inspect.getmembers(runner, inspect.isfunction) if n.startswith("step_")}


def test_the_schema_file_is_the_one_the_registry_makes() -> None:
    written = (REPO / "conformance" / "schemas" / "testcase.schema.json").read_text("utf-8")
    assert written == steps.schema_text(), (
        "schemas/testcase.schema.json is stale: python -m conformance.engine.steps --write"
    )


def test_the_module_prints_the_schema(tmp_path) -> None:
    ran = run([PYTHON, "-m", "conformance.engine.steps"], cwd=tmp_path)
    assert ran.returncode == 0, ran.tail()
    assert ran.stdout == steps.schema_text()


@pytest.mark.parametrize("role", list(RUNNERS))
def test_the_readme_shows_the_step_table_of_the_registry(role: str) -> None:
    readme = (REPO / "testcases" / "README.md").read_text(encoding="utf-8")
    table = steps.readme_table(role)
    assert table in readme, (
        f"testcases/README.md lacks the {role} step table of the registry "
        f"(python -m conformance.engine.steps --readme {role}):\n{table}"
    )


@pytest.mark.parametrize("role", list(RUNNERS))
def test_every_kind_of_a_role_has_a_handler_on_its_runner(role: str) -> None:
    runner = RUNNERS[role]
    missing = [k.key for k in steps.KINDS if role in k.roles and k.handler not in handlers(runner)]
    assert not missing, f"{runner.__name__} has no handler for {missing}"


@pytest.mark.parametrize("role", list(RUNNERS))
def test_every_handler_of_a_runner_is_a_registered_kind_of_its_role(role: str) -> None:
    runner = RUNNERS[role]
    registered = {k.handler for k in steps.KINDS if role in k.roles}
    stray = sorted(handlers(runner) - registered)
    assert not stray, f"{runner.__name__} has handlers no {role} step kind uses: {stray}"


def test_the_registry_is_consistent() -> None:
    keys = [k.key for k in steps.KINDS]
    assert len(keys) == len(set(keys))
    assert all(k.roles and set(k.roles) <= set(RUNNERS) for k in steps.KINDS)
    assert {k.handler for k in steps.KINDS} == {k.definition for k in steps.KINDS}
    for kind in steps.KINDS:  # a step written with a kind's trigger is read as that kind
        value = kind.value if kind.value is not None else []
        assert steps.kind_of({kind.trigger: value}) is kind
    assert steps.kind_of({"expect": "nothing"}) is None
    assert steps.kind_of({"name": "no trigger"}) is None
