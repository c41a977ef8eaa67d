"""python -m bench [name] — list or run a benchmark."""

import sys

BENCHES = {
    "report": "bench.report_submission",
    "scan": "bench.warning_scan",
    "dashboard": "bench.dashboard",
    "residents": "bench.residents",
    "assessment": "bench.assessment",
}


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else ""
    if name not in BENCHES:
        print(
            "benchmarks:",
            ", ".join(BENCHES),
            "\n  python -m bench report [--seconds 30] [--clients 8]",
            "\n  python -m bench scan [--open 100000] [--due 300] [--cleanup]",
            "\n  python -m bench assessment [--generate] [--month YYYY-MM]",
            "\n  python -m bench dashboard [--requests 200]   (on a Wuhan-sized city)",
            "\n  python -m bench residents [--queries 300] [--people 1000000]",
        )
        sys.exit(0 if not name else 2)
    module = __import__(BENCHES[name], fromlist=["main"])
    module.main(sys.argv[2:])


if __name__ == "__main__":
    main()
