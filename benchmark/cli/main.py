"""`csbench`: one small module per subcommand; errors in input print one line and exit 2."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings

SUBCOMMANDS = ("ls", "run", "plan", "run-one", "eval", "leaderboard", "validate", "reproduce", "compare")


def quiet_libraries() -> None:
    # Hub misses must fail fast offline; the CUDA-only torchao extension and deprecation notes are noise here.
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", message=".*TypedStorage is deprecated.*")
    import logging
    logging.getLogger("torchao").setLevel(logging.ERROR)
    logging.getLogger("torch.utils._pytree").setLevel(logging.ERROR)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2) like every other input error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(text: object) -> str:
    return " / ".join(part.strip() for part in str(text).splitlines() if part.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="csbench",
        description="Benchmark what compression (distillation, pruning, quantization) does to subgroups of the data.",
        epilog="Quick start: csbench run --suite quick   (then: csbench leaderboard)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(f"benchmark.cli.{name.replace('-', '_')}_cmd").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    quiet_libraries()
    from benchmark.errors import BenchmarkError
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except BenchmarkError as exc:
        print(f"csbench: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("csbench: interrupted; finished records are kept, rerun the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
