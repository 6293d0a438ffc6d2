"""``python -m propdesk_kyc_sumsub.simulator`` as a process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from propdesk_kyc_sumsub import SumsubClient

PLUGIN_ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--port", "0", "--app-token", "sbx:cli-token", "--secret-key", "cli-secret"]


async def test_serves_until_interrupted() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PLUGIN_ROOT), env.get("PYTHONPATH")]))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "propdesk_kyc_sumsub.simulator",
        *ARGS,
        "--level",
        "cli-level",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if not found:
            raise AssertionError(line + (await process.stderr.read()).decode())
        async with SumsubClient(found.group(1), "sbx:cli-token", "cli-secret") as client:
            made = await client.create_applicant("crm-cli", "cli-level")
            assert (await client.status(made.id)).review_status == "init"
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 15) == 0
        assert await process.stdout.read() == b""  # one line, nothing after
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
