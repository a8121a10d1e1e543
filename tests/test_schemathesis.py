"""The OpenAPI document says exactly what the server accepts: schemathesis checks it.

A bounded run generates requests from ``/ogcapi/openapi`` — valid ones (they must be
answered 2xx or a documented error, with the documented content type and body) and
invalid ones (they must be refused with a 4xx) — and sends them to the real app
in-process (WSGI).  Every check schemathesis has runs on every answer: no 5xx, status
codes, content types, headers and bodies as documented, valid data accepted, invalid
data refused.  It is bounded by examples per operation (``EXAMPLES``) and derandomised,
so it takes about a minute and finds the same things every run.

One check is left out on the items operations only: "a schema-valid request is
accepted" (ST202).  Their ``filter`` is CQL2, whose grammar no JSON Schema pattern
holds, and a bbox must have its lower corner below its upper one, a date must exist in
the calendar: requests valid for the schema but not for the server, answered 400 with
a hint, as the document says.  Everything else is checked there too.  (schemathesis's own
pytest plugin does not run under pytest 9, so the operations are looped here.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from webmap import create_app

pytestmark = [pytest.mark.xdist_group("schemathesis")]

#: Generated requests per operation and mode (positive, negative).
EXAMPLES = 12


@pytest.fixture(scope="module")
def api_schema(ref_store_path):
    app = create_app({"ATLAS_STORE": ref_store_path, "TESTING": False})
    return schemathesis.openapi.from_wsgi("/ogcapi/openapi", app)


def _operations(schema) -> list:
    return [result.ok() for result in schema.get_all_operations()]


def _check(op, mode: GenerationMode, examples: int) -> None:
    """Send ``examples`` generated requests of ``mode`` to ``op``; raise what fails."""
    excluded = [positive_data_acceptance] if op.path.endswith("/items") else []

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], print_blob=False,
              suppress_health_check=list(HealthCheck))
    @given(op.as_strategy(generation_mode=mode))
    def run(case):
        # The WSGI transport does not decompress: ask for plain bodies.
        case.call_and_validate(headers={"Accept-Encoding": "identity"},
                               excluded_checks=excluded)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_openapi_document_matches_the_server(api_schema, mode):
    failures: list[str] = []
    operations = _operations(api_schema)
    assert len(operations) > 10
    for op in operations:
        try:
            _check(op, mode, EXAMPLES)
        except Exception as e:  # noqa: BLE001 - collected and reported together below
            failures.append(f"{op.label}: {type(e).__name__}: {str(e)[:1500]}")
    assert not failures, "\n\n".join(failures)
