"""Shared by the reference scripts: file locations, the input hash and the JSON writer.

Each script `tests/reference/<stem>.py` computes the reference values of one test file and calls
`write(stem, test, values, inputs)`, which writes `tests/reference/<stem>.json` deterministically
(sorted keys, one-space indent, floats as Python's shortest round-trip repr, no NaN/inf) with a
`_meta` block holding the SHA-256 of the script and its inputs. The Rust test
`tests/reference_hashes.rs` recomputes that hash; see README.md for the exact definition.
"""

import hashlib
import json
import math
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DATA = "data/customer_purchasing_behaviors.csv"
# Every script's output also depends on these two files.
ALWAYS = ["tests/reference/_common.py", "tests/reference/requirements.txt"]


def path(rel):
    """Absolute path of a repository-relative path."""
    return ROOT / rel


def input_hash(files):
    """SHA-256 (hex) over each file in order: its repository-relative path, a newline, its length
    in bytes after CRLF -> LF normalisation, a newline, then those bytes."""
    h = hashlib.sha256()
    for rel in files:
        data = path(rel).read_bytes().replace(b"\r\n", b"\n")
        h.update(rel.encode("utf-8") + b"\n" + str(len(data)).encode("ascii") + b"\n")
        h.update(data)
    return h.hexdigest()


def plain(x):
    """Numpy scalars and arrays, tuples and non-string keys made JSON-ready; NaN/inf refused."""
    if isinstance(x, dict):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if isinstance(x, np.ndarray):
        return [plain(v) for v in x.tolist()]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        v = float(x)
        if not math.isfinite(v):
            raise ValueError(f"non-finite reference value {v}")
        return v
    if isinstance(x, str):
        return x
    raise TypeError(f"cannot store {type(x)} in a reference file")


def write(stem, test, values, inputs=()):
    """Writes tests/reference/<stem>.json: `values` plus `_meta` (the test file it serves, the
    script, its inputs and their hash). `inputs` are repository-relative paths the values were
    computed from (the bundled data, for example); the script itself and ALWAYS are added."""
    script = f"tests/reference/{stem}.py"
    files = [script] + list(inputs) + ALWAYS
    out = plain(values)
    if "_meta" in out:
        raise ValueError("'_meta' is reserved")
    out["_meta"] = {
        "inputs": files,
        "regenerate": "bash tests/reference/regenerate.sh",
        "sha256": input_hash(files),
        "test": test,
    }
    text = json.dumps(out, sort_keys=True, indent=1, allow_nan=False, ensure_ascii=False) + "\n"
    (HERE / f"{stem}.json").write_text(text, encoding="utf-8", newline="\n")
