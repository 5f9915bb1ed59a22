"""Command line of the benchmarks (bench/): `python -m bench [hot_path|search|cold_start|gateway ...] [--quick]`."""

from __future__ import annotations

import argparse
import importlib
import time

from bench import common, report


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Marquee's benchmarks (budgets: docs/architecture.md §8)."
    )
    parser.add_argument("benchmarks", nargs="*", metavar="|".join(common.BENCHMARKS), help="default: all of them")
    parser.add_argument(
        "--quick", action="store_true", help="small numbers for development; results go to .marquee/bench/quick/"
    )
    args = parser.parse_args()
    names = args.benchmarks or list(common.BENCHMARKS)
    unknown = sorted(set(names) - set(common.BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(common.BENCHMARKS)}")
    started = time.perf_counter()
    for name in names:
        print(f"== {name}{' (quick)' if args.quick else ''}")
        module = importlib.import_module(f"bench.{name}")
        machine = common.machine_info()
        begun = time.perf_counter()
        result = module.run(quick=args.quick)
        result["machine"] = machine
        result["elapsed_seconds"] = round(time.perf_counter() - begun, 1)
        path = common.write_result(name, result, quick=args.quick)
        print(f"== {name}: {result['elapsed_seconds']:.0f} s, wrote {path.relative_to(common.REPO)}")
        for figure in result["figures"]:
            if figure["verdict"] != "info":
                ratio = "" if figure["ratio"] is None else f" ({figure['ratio']:.2f}x baseline)"
                print(f"   {figure['verdict']:>11}  {figure['name']}: {figure['value']} {figure['unit']}{ratio}")
    if not args.quick:
        print(f"wrote {report.write_readme().relative_to(common.REPO)}")
    print(f"bench: total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
