"""One role's fuzzing run with schemathesis against the API over HTTP: every operation on its
own, then scenarios that follow the API's OpenAPI links from one answer to the next call.

A run fails on a 5xx, an answer that breaks the declared schema, or a request left unanswered,
and reports each operation's failure with the request that caused it. The suite runs a small,
derandomised budget (the same cases every run); ``make fuzz`` a long, random campaign.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import hypothesis
import hypothesis.errors
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from api.openapi_links import add_links

# Operations the fuzzer leaves out, and why.
_EXCLUDED = {
    # A password login: argon2 costs a quarter second a guess and proves nothing per role.
    ("POST", "/auth/token"),
}

# Paths of the calls that end (or end a party's part in) a process.
_ENDINGS = ("/cancel", "/close", "/decline", "/decline-signature")


@dataclass(frozen=True)
class Budget:
    examples: int  # cases an operation gets on its own, in each generation mode
    scenarios: int  # stateful scenarios
    steps: int  # calls at most in a scenario
    derandomize: bool  # the same cases every run
    shrink: bool  # search for the smallest failing case (costly)
    request_timeout: float  # seconds; an answer slower than this is a failure


SUITE = Budget(
    examples=5, scenarios=25, steps=10, derandomize=True, shrink=False, request_timeout=20
)
CAMPAIGN = Budget(
    examples=40, scenarios=150, steps=20, derandomize=False, shrink=True, request_timeout=20
)


def budget_from_environment() -> Budget:
    """``TRADEFLOW_FUZZ=campaign`` (set by ``make fuzz``) selects the long campaign."""
    return CAMPAIGN if os.environ.get("TRADEFLOW_FUZZ") == "campaign" else SUITE


def role_schema(
    openapi: dict[str, Any],
    *,
    base_url: str,
    token: str,
    budget: Budget,
    path_regex: str | None = None,
) -> schemathesis.BaseSchema:
    """The API's schema, with its links, calling as one user and checking what the suite
    promises: no server error, and every answer as declared (status, media type, headers, body)."""
    config = schemathesis.Config.from_dict(
        {
            "base-url": base_url,
            "headers": {"Authorization": f"Bearer {token}"},
            "request-timeout": budget.request_timeout,
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "status_code_conformance": {"enabled": True},
                "content_type_conformance": {"enabled": True},
                "response_headers_conformance": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
            },
            "generation": {"mode": "all"},
        }
    )
    schema: schemathesis.BaseSchema = schemathesis.openapi.from_dict(
        add_links(openapi), config=config
    )
    for method, path in _EXCLUDED:
        schema = schema.exclude(method=method, path=path)
    return schema if path_regex is None else schema.include(path_regex=path_regex)


def fuzz_operations(
    schema: schemathesis.BaseSchema,
    *,
    known_ids: Mapping[str, str],
    bodies: Mapping[str, st.SearchStrategy[Any]],
    budget: Budget,
) -> list[str]:
    """Every operation on its own: ids that exist and mutations of a valid body first, so the
    call gets past the lookup and the validation to the code behind; then whatever the schema
    allows (and, negatively, what it does not). One failure an operation at most."""
    failures = []
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Ok):
            operations.append(result.ok())
        else:
            failures.append(f"operation not loadable: {result}")
    # Calls that end a process go last, so the others meet the world's processes alive.
    operations.sort(key=lambda operation: operation.path.endswith(_ENDINGS))
    for operation in operations:
        fixed = {
            p.name: known_ids[p.name] for p in operation.path_parameters if p.name in known_ids
        }
        # Any string is a valid path id, so a call taking nothing else has no negative case.
        has_input = bool(list(operation.query)) or bool(operation.body)
        modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)[: 2 if has_input else 1]
        for mode in modes:
            # Hypothesis tries the first alternative first.
            alternatives = [operation.as_strategy(generation_mode=mode)]
            if fixed:
                alternatives.insert(
                    0, operation.as_strategy(generation_mode=mode, path_parameters=fixed)
                )
            if operation.label in bodies and mode is GenerationMode.POSITIVE:
                alternatives.insert(0, _with_bodies(operation, bodies[operation.label], fixed))
            strategy = st.one_of(*alternatives)
            problem = _first_failure(strategy, budget)
            if problem:
                failures.append(f"{operation.label} ({mode.value}): {problem}")
                break
    return failures


def fuzz_scenarios(schema: schemathesis.BaseSchema, *, budget: Budget) -> list[str]:
    """Scenarios along the links: a list's or a create's ids feed the calls that take them."""
    machine = schema.as_state_machine()
    try:
        machine.run(settings=_settings(budget, scenarios=True))
    except (Exception, BaseExceptionGroup) as error:
        return [f"stateful: {_describe(error)}"]
    return []


def _with_bodies(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    bodies: st.SearchStrategy[Any],
    path_parameters: dict[str, str],
) -> st.SearchStrategy[schemathesis.Case[Any]]:
    return bodies.flatmap(
        lambda body: operation.as_strategy(body=body, path_parameters=path_parameters or None)
    )


def _first_failure(strategy: st.SearchStrategy[Any], budget: Budget) -> str | None:
    @hypothesis.settings(_settings(budget, scenarios=False))
    @hypothesis.given(case=strategy)
    def check(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate()

    return _run(check)


def _run(test: Callable[[], None]) -> str | None:
    try:
        test()
    except hypothesis.errors.Unsatisfiable:
        return None  # no case of this mode exists (a negative case for a call without input)
    except (Exception, BaseExceptionGroup) as error:  # schemathesis groups its failures
        return _describe(error)
    return None


def _describe(error: BaseException) -> str:
    """Schemathesis failures carry the request and answer; anything else, its traceback."""
    if isinstance(error, AssertionError | BaseExceptionGroup):
        return str(error)
    return "".join(traceback.format_exception(error)[-6:])


def _settings(budget: Budget, *, scenarios: bool) -> hypothesis.settings:
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if budget.shrink else [])
    return hypothesis.settings(
        max_examples=budget.scenarios if scenarios else budget.examples,
        stateful_step_count=budget.steps,
        derandomize=budget.derandomize,
        database=None,
        deadline=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        print_blob=not budget.derandomize,
    )
