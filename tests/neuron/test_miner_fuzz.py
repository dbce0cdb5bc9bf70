"""Property: whatever arrives, the miner answers below 500 and the handler runs only for
requests that carry a valid signature over exactly the bytes received."""

from __future__ import annotations

import asyncio
import json

from aiohttp.test_utils import TestClient, TestServer
from bittensor import http_auth
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support.neuron import STRANGER, VALIDATOR, make_axon, signed

AUTH_HEADERS = [
    http_auth.HEADER_VERSION,
    http_auth.HEADER_HOTKEY,
    http_auth.HEADER_NONCE,
    http_auth.HEADER_SIGNATURE,
    http_auth.HEADER_RECEIVER,
    http_auth.HEADER_CRYPTO,
]
# Headers the HTTP client itself must own; anything else may be thrown at the server.
RESERVED = {"content-length", "transfer-encoding", "host", "connection", "expect"}

header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120)
header_name = st.one_of(
    st.sampled_from([*AUTH_HEADERS, "Content-Type"]),
    st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,24}", fullmatch=True).filter(
        lambda n: n.lower() not in RESERVED
    ),
)
json_body = st.builds(
    lambda payload: json.dumps({"payload": payload}).encode(), st.text(max_size=200)
)
body = st.one_of(json_body, st.binary(max_size=3000))


@st.composite
def requests(draw):
    """(path, sent body, headers, valid): valid means signed, untouched, for these bytes."""
    path = draw(st.sampled_from(["/echo", "/echo", "/echo", "/echo?x=1", "/other"]))
    sent = draw(body)
    if draw(st.booleans()):
        key = draw(st.sampled_from([VALIDATOR, VALIDATOR, STRANGER]))
        signed_body = sent if draw(st.booleans()) else draw(body)
        headers = signed(signed_body, key=key, path=path)
        valid = signed_body == sent
    else:
        headers, valid = {}, False
    tamper = draw(st.booleans())
    changes = draw(st.lists(st.tuples(header_name, header_text), max_size=4)) if tamper else []
    for name, value in changes:
        previous = {k.lower(): v for k, v in headers.items()}.get(name.lower())
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
        headers[name] = value
        if name in AUTH_HEADERS and value != previous:
            valid = False
    dropped = draw(st.lists(st.sampled_from(AUTH_HEADERS), max_size=2)) if tamper else []
    for name in dropped:
        if name in headers:
            headers.pop(name)
            valid = False
    return path, sent, headers, valid


async def _exchange(path: str, sent: bytes, headers: dict[str, str], valid: bool) -> None:
    axon, _ = make_axon(max_body=2048)
    client = TestClient(TestServer(axon.app()))
    await client.start_server()
    try:
        resp = await client.post(path, data=sent, headers=headers)
        await resp.read()
        event(f"status {resp.status}")
        assert resp.status < 500, (resp.status, await resp.text())
        if not valid:
            assert axon.task.calls == 0, "the handler ran without a valid signature"
        if axon.task.calls:
            assert resp.status == 200
    finally:
        await client.close()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(requests())
def test_arbitrary_requests_never_cause_5xx_or_reach_the_handler_unsigned(case):
    asyncio.run(_exchange(*case))
