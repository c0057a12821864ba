"""``coursekit.cpu_kernels``: oneDNN requested before TensorFlow loads, the user's choice kept, a warning
when the request comes too late. Each case needs a fresh Python: TensorFlow reads the switch once."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, sys, warnings
sys.path.insert(0, {root!r})
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    {imports}
from coursekit.cpu_kernels import onednn_enabled
import os
print(json.dumps({{"enabled": onednn_enabled(), "env": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
                  "warnings": [str(w.message) for w in caught if "oneDNN" in str(w.message)]}}))
"""


def _probe(imports, env_value=None):
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    if env_value is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = env_value
    code = PROBE.format(root=str(ROOT), imports="; ".join(imports))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_coursekit_first_turns_onednn_on_quietly():
    result = _probe(["import coursekit", "import tensorflow"])
    assert result == {"enabled": True, "env": "1", "warnings": []}


@pytest.mark.slow
def test_the_users_setting_is_kept_and_never_warned_about():
    result = _probe(["import tensorflow", "import coursekit"], env_value="0")
    assert result["env"] == "0" and result["warnings"] == []
    assert _probe(["import coursekit", "import tensorflow"], env_value="0")["env"] == "0"


def test_tensorflow_loaded_first_warns_only_where_its_default_leaves_onednn_off():
    result = _probe(["import tensorflow", "import coursekit"])
    if result["enabled"]:  # a CPU with AVX-512 / AMX: TensorFlow turned oneDNN on by itself
        assert result["warnings"] == []
    else:
        assert len(result["warnings"]) == 1
        assert "Import models or coursekit before tensorflow" in result["warnings"][0]
        assert "TF_ENABLE_ONEDNN_OPTS=1" in result["warnings"][0]


def test_onednn_enabled_says_none_without_tensorflow(monkeypatch):
    from coursekit import cpu_kernels

    monkeypatch.setitem(sys.modules, "tensorflow.python.util", None)  # makes the import fail
    assert cpu_kernels.onednn_enabled() is None


def test_bfloat16_flags_and_model_are_read_from_cpuinfo(tmp_path):
    from coursekit.cpu_kernels import cpu_bfloat16_flags, cpu_flags, cpu_model

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512f avx512_bf16 fma\n")
    assert cpu_bfloat16_flags(info) == ["avx512_bf16"] and cpu_model(info) == "AMD EPYC 9R14"
    info.write_text("model name\t: Intel Xeon\nflags\t\t: fpu avx2 amx_bf16 amx_tile avx512_bf16\n")
    assert cpu_bfloat16_flags(info) == ["amx_bf16", "avx512_bf16"]
    info.write_text("model name\t: Intel Core i5\nflags\t\t: fpu avx2 fma\n")
    assert cpu_bfloat16_flags(info) == [] and "avx2" in cpu_flags(info)
    assert cpu_bfloat16_flags(tmp_path / "missing") == []


def test_auto_mixed_precision_picks_bfloat16_only_on_a_bfloat16_cpu_and_only_when_asked(monkeypatch):
    import keras

    from coursekit import cpu_kernels
    from coursekit.training.distribute import mixed_precision_policy

    try:
        monkeypatch.setattr(cpu_kernels, "cpu_bfloat16_flags", lambda: ["avx512_bf16"])
        assert mixed_precision_policy("auto", cpu_bfloat16=True) == "mixed_bfloat16"
        assert mixed_precision_policy("auto") == "float32"  # the other tasks keep float32 on a CPU
        monkeypatch.setattr(cpu_kernels, "cpu_bfloat16_flags", lambda: [])
        assert mixed_precision_policy("auto", cpu_bfloat16=True) == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")
