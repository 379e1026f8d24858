"""Every operation of ``/openapi.json``, fuzzed by schemathesis against a real server
(mock upstream, SQLite): whatever a client sends, never a 5xx and never a hang. A fixed,
small budget of examples per operation keeps it inside CI's time; the stateful run
chains operations through the links schemathesis infers (a created response or
conversation, then read, listed and deleted by its id)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from relaystack.app import build_app
from tests.conftest import server_config
from tests.support.mock_upstream import MockUpstream
from tests.support.servers import ServerThread
from tests.support.spec import SPEC_PATH

# Generous for one request on a loaded CI machine, far below a hang.
REQUEST_TIMEOUT = 20
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure reproduces
    suppress_health_check=list(HealthCheck),
    database=None,
)


@pytest.fixture(scope="module")
def fuzz_server(upstream: MockUpstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = server_config(upstream.base_url, tmp_path_factory.mktemp("fuzz") / "relaystack.db")
    with ServerThread(build_app(config)) as thread:
        yield thread.url


@pytest.fixture(scope="module")
def api_schema(fuzz_server: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{fuzz_server}/openapi.json")


def test_no_operation_answers_5xx_or_hangs(
    api_schema: schemathesis.BaseSchema, fuzz_server: str
) -> None:
    # One test walks the operations (schemathesis' pytest fixture loader does not run
    # on this pytest); a failure names its operation and hypothesis' smallest example.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20, [operation.label for operation in operations]
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(base_url=fuzz_server, timeout=REQUEST_TIMEOUT)
            case.validate_response(response, checks=[not_a_server_error])

        try:
            fuzz()
        except Exception as exc:
            raise AssertionError(f"{operation.label}: {exc}") from exc


def test_chained_operations_never_answer_5xx(
    api_schema: schemathesis.BaseSchema, fuzz_server: str
) -> None:
    machine = api_schema.as_state_machine()

    class Chained(machine):  # type: ignore[misc, valid-type]
        def call(self, case: schemathesis.Case, **kwargs: object) -> schemathesis.Response:
            return case.call(base_url=fuzz_server, timeout=REQUEST_TIMEOUT)

        def validate_response(
            self, response: schemathesis.Response, case: schemathesis.Case, **kwargs: object
        ) -> None:
            case.validate_response(response, checks=[not_a_server_error])

    Chained.run(settings=settings(FUZZ, max_examples=10, stateful_step_count=6))


# ----- bodies the OpenAPI document leaves open ---------------------------------------

MODELS = ["openai/gpt-4o", "openai/mock-model", "nope/missing", ""]


def test_open_responses_bodies_never_answer_5xx(fuzz_server: str) -> None:
    """POST /responses with bodies generated from the Open Responses spec's own request
    schema (a model we serve put in most of them, so they reach the upstream)."""
    spec = schemathesis.openapi.from_path(SPEC_PATH)
    (operation,) = [
        result.ok()
        for result in spec.get_all_operations()
        if result.ok().label == "POST /responses"
    ]

    @FUZZ
    @given(case=operation.as_strategy(), model=st.sampled_from(MODELS))
    def fuzz(case: schemathesis.Case, model: str) -> None:
        if isinstance(case.body, dict):
            case.body = {**case.body, "model": model}
        response = case.call(base_url=f"{fuzz_server}/v1", timeout=REQUEST_TIMEOUT)
        case.validate_response(response, checks=[not_a_server_error])

    fuzz()


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=16,
)
KEYS = {
    "/v1/responses": [
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "stream",
        "store",
        "text",
        "previous_response_id",
        "conversation",
        "max_output_tokens",
        "metadata",
        "include",
        "temperature",
        "top_p",
        "reasoning",
        "truncation",
        "parallel_tool_calls",
    ],
    "/v1/chat/completions": [
        "messages",
        "stream",
        "tools",
        "tool_choice",
        "response_format",
        "max_tokens",
        "stream_options",
        "temperature",
        "n",
        "stop",
        "logprobs",
    ],
    "/v1/embeddings": ["input", "encoding_format", "dimensions", "user"],
    "/v1/conversations": ["items", "metadata"],
}


@pytest.mark.parametrize("path", list(KEYS))
def test_arbitrary_json_bodies_never_answer_5xx(fuzz_server: str, path: str) -> None:
    """Any JSON under the parameters each endpoint reads: a 2xx or a 4xx, never more."""
    body = st.fixed_dictionaries(
        {"model": st.sampled_from(MODELS)},
        optional={key: JSON for key in KEYS[path]},
    )

    @FUZZ
    @given(body=body | JSON)
    def fuzz(body: object) -> None:
        with httpx.Client(base_url=fuzz_server, timeout=REQUEST_TIMEOUT) as http:
            reply = http.post(path, json=body)
        assert reply.status_code < 500, (body, reply.text[:500])

    fuzz()


@pytest.mark.parametrize(
    "path", ["/v1/responses", "/v1/responses/resp_x/input_items", "/v1/conversations/conv_x/items"]
)
def test_arbitrary_list_queries_never_answer_5xx(fuzz_server: str, path: str) -> None:
    query = st.dictionaries(
        st.sampled_from(["limit", "after", "before", "order", "include", "model"]),
        st.text(max_size=30),
        max_size=4,
    )

    @FUZZ
    @given(params=query)
    def fuzz(params: dict[str, str]) -> None:
        reply = httpx.get(f"{fuzz_server}{path}", params=params, timeout=REQUEST_TIMEOUT)
        assert reply.status_code < 500, (params, reply.text[:500])

    fuzz()
