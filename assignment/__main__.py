"""Command line: ``python -m assignment TASK [options]``."""
import argparse
import sys
from pathlib import Path

from assignment import ASSIGNMENTS, load_task


def main(argv=None):
    modules = {name: load_task(name) for tasks in ASSIGNMENTS.values() for name in tasks}
    listing = "\n".join(f"{assignment}:\n" + "\n".join(f"  {name:14s} {modules[name].HELP}" for name in tasks)
                        for assignment, tasks in ASSIGNMENTS.items())
    prog = "coursekit" if Path(sys.argv[0]).name == "coursekit" else "python -m assignment"  # the console script
    parser = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run one assignment task end to end. Every task takes --out DIR and --seed N and writes its "
                    "plots and a metrics.json there.",
        epilog=f"tasks, by assignment:\n{listing}\n\n'{prog} TASK --help' explains a task's options.")
    sub = parser.add_subparsers(dest="task", metavar="TASK", required=True)
    for name, module in modules.items():
        module.add_arguments(sub.add_parser(name, description=module.HELP))
    args = parser.parse_args(argv)
    return modules[args.task].run(args)


if __name__ == "__main__":
    sys.exit(main())
