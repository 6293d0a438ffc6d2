"""``python -m propdesk_psp_stripe.simulator`` in a subprocess: one "listening" line, the
keys and webhook given on the command line, a clean exit on Ctrl-C (SIGINT)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import stripe
from stripe_simkit import Receiver, session_params

from propdesk_psp_stripe.simulator.__main__ import parse_args


@pytest.fixture
def served(receiver: Receiver) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [
            sys.executable, "-m", "propdesk_psp_stripe.simulator", "--port", "0",
            "--secret-key", "sk_test_cli_key", "--webhook", receiver.url,
            "--webhook-secret", "whsec_cli_secret", "--retry-delays", "0.05",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert match, f"no listening line: {line!r}"
        yield process, match.group(1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_serves_until_sigint(served: tuple[subprocess.Popen[str], str], receiver: Receiver) -> None:
    process, url = served
    client = stripe.StripeClient("sk_test_cli_key", base_addresses={"api": url})
    session = client.v1.checkout.sessions.create(params=session_params())
    assert session.url == f"{url}/checkout/{session.id}"
    paid = httpx.post(f"{url}/__sim__/checkout/{session.id}/pay", json={"outcome": "succeeded"})
    assert paid.json()["payment_status"] == "paid"
    event = receiver.wait_for(1)[0].event("whsec_cli_secret")
    assert event.type == "checkout.session.completed"
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient(
            "sk_test_propdesk_simulator", base_addresses={"api": url}
        ).v1.events.list()

    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    assert process.stdout is not None and process.stdout.read() == ""  # one line only
    assert process.stderr is not None and "Traceback" not in process.stderr.read()


def test_arguments_are_checked() -> None:
    config = parse_args(["--port", "0", "--retry-delays", "0.1,0.2"])
    assert config.webhook_retry_delays == (0.1, 0.2) and config.webhooks == ()
    for bad in (["--secret-key", "pk_test_x"], ["--webhook-secret", "nope"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
