"""Helpers the task modules share: their common options, data errors, output folders and result tables."""
import contextlib
import json
import math
from pathlib import Path

from coursekit.atomic_files import write_text_atomic
from coursekit.report.tables import format_table


def out_dir(path) -> Path:
    """Create (if needed) and return the folder a task writes its plots and tables to."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_json(data, path) -> Path:
    """Write ``data`` as JSON to ``path`` atomically: a reader never sees half a file."""
    return write_text_atomic(path, json.dumps(_finite(data), indent=2, default=_plain, allow_nan=False))


def _finite(value):
    """NaN and inf (e.g. the overflowing layer of the init study) as JSON null: strict JSON has neither."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _plain(value):
    # numpy scalars and arrays as plain JSON numbers and lists
    return value.tolist() if hasattr(value, "tolist") else str(value)


def report(title, rows, out, name, columns=None, collect=None):
    """Print ``rows`` as a table under ``title`` and keep them as JSON in ``out/name.json``
    (and in ``collect[name]``, when given, for the task's metrics.json)."""
    print(f"\n== {title} ==")
    print(format_table(rows, columns))
    write_json(rows, Path(out) / f"{name}.json")
    if collect is not None:
        collect[name] = rows


def write_metrics(out, metrics) -> Path:
    """Keep the figures a task printed in ``out/metrics.json`` and say where."""
    path = write_json(metrics, Path(out) / "metrics.json")
    print(f"\nmetrics: {path}")
    return path


def add_common_arguments(p, *, out, seed=0, seed_help="seeds everything random in the task", data_help=None,
                         download=False):
    """The options every task shares: ``--data`` (with ``data_help``: what the folder or file holds and the
    default), ``--no-download`` (tasks that can download), ``--seed`` (``seed=None``: the task names its own,
    e.g. numerics' ``--student-id``) and ``--out``."""
    if data_help is not None:
        p.add_argument("--data", type=Path, default=None, help=data_help)
    if download:
        p.add_argument("--no-download", action="store_true", help="never try to download")
    if seed is not None:
        p.add_argument("--seed", type=int, default=seed, help=f"{seed_help} (default {seed})")
    p.add_argument("--out", type=Path, default=Path(out), help=f"where plots and metrics.json go (default {out})")


@contextlib.contextmanager
def data_errors():
    """Turn a loader's ``FileNotFoundError``/``ValueError`` (whose message names the file and the fix) into a
    one-line ``error: ...`` exit, instead of a traceback."""
    try:
        yield
    except (FileNotFoundError, ValueError) as exc:
        raise SystemExit(f"error: {exc}") from exc


def add_device_arguments(p, mixed_precision_help="mixed precision: auto = on when a GPU is present (bfloat16 where "
                                                 "supported)"):
    """``--strategy`` and ``--mixed-precision``, shared by the training tasks (``mixed_precision_help``: what
    ``auto`` means in the task, see ``setup_devices``)."""
    p.add_argument("--strategy", choices=["default", "mirrored", "tpu", "multiworker"], default="default",
                   help="tf.distribute strategy: one device (default), all local GPUs, a Colab TPU, or several "
                        "machines configured by TF_CONFIG")
    p.add_argument("--mixed-precision", choices=["auto", "on", "off"], default="auto", help=mixed_precision_help)
    p.add_argument("--jit", choices=["auto", "on", "off"], default="auto",
                   help="XLA compilation of the training step: auto = Keras' default (on when a GPU is present)")
    p.add_argument("--tensorboard", type=Path, default=None, metavar="DIR",
                   help="log every training's curves for TensorBoard into DIR/<model name> "
                        "(in Colab: %%load_ext tensorboard, then %%tensorboard --logdir DIR)")


def add_backup_argument(p):
    """``--backup-dir DIR``: each training keeps its last finished epoch in ``DIR/<model>`` to resume from."""
    p.add_argument("--backup-dir", type=Path, default=None,
                   help="keep each training's last finished epoch in DIR/<model name>: a run killed (e.g. a Colab "
                        "disconnect) and started again with the same arguments carries on from there; each "
                        "folder is removed when its training completes")


def add_tuning_argument(p):
    """``--tune-dir DIR``: where a grid search keeps its state (resumable, shareable by several machines)."""
    p.add_argument("--tune-dir", type=Path, default=None,
                   help="keep the grid search's state in DIR: started again, it skips finished trials; with "
                        "KERASTUNER_TUNER_ID/ORACLE_IP/ORACLE_PORT set, several machines share the grid (README)")


def tuning_worker_done(best):
    """True (after saying so) in a distributed search's worker, which has no table to print."""
    if best is None:
        print("this worker's trials are done; the chief (KERASTUNER_TUNER_ID=chief) prints the table")
        return True
    return False


def backup_path(args, name):
    """``DIR/name`` under ``--backup-dir``, or ``None`` without it."""
    return None if getattr(args, "backup_dir", None) is None else Path(args.backup_dir) / name


def setup_devices(args, cpu_bfloat16=False):
    """Apply ``--mixed-precision`` and return the ``tf.distribute`` strategy (``None`` for one device).

    ``cpu_bfloat16``: ``--mixed-precision auto`` also means bfloat16 on a CPU with native bfloat16 kernels
    (``distribute.mixed_precision_policy``)."""
    from coursekit.training.distribute import get_strategy, mixed_precision_policy

    from coursekit.training import runtime

    policy = mixed_precision_policy({"auto": "auto", "on": True, "off": False}[args.mixed_precision], cpu_bfloat16)
    runtime.reset()  # a task's settings do not outlive it (tests run several tasks in one process)
    runtime.configure(jit_compile=getattr(args, "jit", None), tensorboard_dir=getattr(args, "tensorboard", None))
    strategy = get_strategy(args.strategy)
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    print(f"dtype policy: {policy}; strategy: {args.strategy} ({replicas} replica{'s' if replicas > 1 else ''})")
    return strategy
