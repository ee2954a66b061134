"""Run one sandbox in the foreground: ``python -m sandboxes certification-registry --port 8301``."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

from gateways.bank import bank_api_key_from_settings
from gateways.regulator import regulator_api_key_from_settings
from sandboxes.bank import BankSandbox
from sandboxes.certification_registry import CertificationRegistrySandbox
from sandboxes.http_sandbox import SandboxServer
from sandboxes.mail import MailSandbox
from sandboxes.receivables_registry import ReceivablesRegistrySandbox
from sandboxes.regulator import RegulatorSandbox
from sandboxes.webhook_sink import WebhookSinkSandbox
from settings import get_settings

# Each sandbox is built from (host, port, data_dir); later systems add themselves here.
SANDBOXES: dict[str, Callable[[str, int, Path | None], SandboxServer]] = {
    "certification-registry": lambda host, port, data_dir: CertificationRegistrySandbox(
        host=host, port=port, data_dir=data_dir
    ),
    # The key the platform would use: TRADEFLOW_REGULATOR_API_KEY, else the data folder's one.
    "regulator": lambda host, port, data_dir: RegulatorSandbox(
        api_key=regulator_api_key_from_settings(get_settings()),
        host=host,
        port=port,
        data_dir=data_dir,
    ),
    # Likewise TRADEFLOW_BANK_API_KEY, else the data folder's one.
    "bank": lambda host, port, data_dir: BankSandbox(
        api_key=bank_api_key_from_settings(get_settings()),
        host=host,
        port=port,
        data_dir=data_dir,
    ),
    "receivables-registry": lambda host, port, data_dir: ReceivablesRegistrySandbox(
        host=host, port=port, data_dir=data_dir
    ),
    # SMTP on TRADEFLOW_SMTP_PORT (where the worker sends), the inbox over HTTP on --port.
    "mail": lambda host, port, data_dir: MailSandbox(
        host=host, port=port, smtp_port=get_settings().smtp_port, data_dir=data_dir
    ),
    "webhook-sink": lambda host, port, data_dir: WebhookSinkSandbox(
        host=host, port=port, data_dir=data_dir
    ),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandboxes", description=__doc__)
    parser.add_argument("sandbox", choices=sorted(SANDBOXES))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, default=None, help="keep added records here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    SANDBOXES[args.sandbox](args.host, args.port, args.data_dir).run_foreground()


if __name__ == "__main__":
    main()
