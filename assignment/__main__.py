"""Command line: ``python -m assignment TASK [options]``."""
import argparse
import sys

from assignment import TASKS, load_task


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m assignment",
                                     description="Run one assignment task end to end.")
    sub = parser.add_subparsers(dest="task", metavar="TASK", required=True)
    for name in TASKS:
        module = load_task(name)
        task_parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(task_parser)
    args = parser.parse_args(argv)
    return load_task(args.task).run(args)


if __name__ == "__main__":
    sys.exit(main())
