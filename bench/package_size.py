"""The Lambda package: its size, and its cold-start import as Lambda runs it (issue 12).

Goals: <= 10 MB zipped, and `import app` <= 300 ms on this machine from the unzipped package.

Builds the package as `make package` does (chalice package, scripts/slim_package.py,
scripts/finish_template.py) into a temp dir, unzips it, and stands in for the Lambda runtime with
a temp dir holding just what the python3.11 runtime provides (boto3, botocore, s3transfer,
jmespath, python-dateutil, six, urllib3: copied from the venv, compiled like the runtime's). Each
run is a fresh `python -S` (no site-packages) with the package then the stand-in on sys.path, as
/var/task then /var/runtime are on Lambda, timing `import app`. The same runs time a baseline,
`import botocore.session` from the stand-in alone (what any Python Lambda using AWS pays), so that
the ratio app / baseline can be compared across runs on this noisy shared machine. Then one
`python -X importtime` run names what the import spends its time on, by top-level package.
The size is also broken down by top-level folder of the zip (compressed bytes of its entries;
the zip's own headers, ~0.5 MB for its ~3000 entries, come on top).

Usage: python bench/package_size.py [--runs N] [--zip deployment.zip] [--stage prod]
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(sysconfig.get_paths()["purelib"])  # the venv's site-packages
# What the Lambda python3.11 runtime provides (/var/runtime, /var/lang/lib/python3.11/site-packages).
RUNTIME_PROVIDES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3")
GOAL_ZIPPED_MB = 10
GOAL_COLD_START_MS = 300
MB = 1e6

TIMED = """
import sys, time
t0 = time.perf_counter()
sys.path[:0] = {path!r}
{statement}
print(time.perf_counter() - t0)
"""


def build_package(out: Path, stage: str = "prod") -> Path:
    """The three steps of `make package`, into `out`; the path of the slimmed deployment.zip."""
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-3")}
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run([str(chalice), "package", "--stage", stage, str(out)], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "slim_package.py"), str(out / "deployment.zip")],
                   cwd=ROOT, check=True)
    finish = subprocess.run([sys.executable, str(ROOT / "scripts" / "finish_template.py"),
                             str(out / "sam.json"), stage], cwd=ROOT, capture_output=True, text=True)
    if finish.returncode != 0:  # the template is tests/test_deploy.py's business; the zip is ours
        print(f"(finish_template.py failed, the zip is measured anyway: {finish.stderr.strip()[-300:]})")
    return out / "deployment.zip"


def unzip(zip_path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


def runtime_standin(dest: Path) -> Path:
    """A dir with just what the Lambda runtime provides, compiled as it is there."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PROVIDES:
        src = SITE / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.is_file():
            shutil.copy2(src, dest / name)
    compileall.compile_dir(dest, quiet=2, workers=0,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return dest


def lambda_env() -> dict[str, str]:
    """The environment of the functions (config.json), as Lambda sets it, and nothing of ours."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {k: str(v) for k, v in config.get("environment_variables", {}).items()}
    env.update({"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                "AWS_DEFAULT_REGION": "eu-west-3", "AWS_REGION": "eu-west-3"})
    return env


def python_s(path: list[str], statement: str, cwd: Path,
             extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """A fresh `python -S` with `path` first on sys.path, running `statement` (timed); -B as
    /var/task is read-only on Lambda: what the zip does not compile is compiled at every cold start."""
    code = TIMED.format(path=path, statement=statement)
    return subprocess.run([sys.executable, "-S", "-B", *extra, "-c", code], cwd=cwd, env=lambda_env(),
                          capture_output=True, text=True, timeout=120)


def timed(path: list[str], statement: str, cwd: Path) -> float:
    run = python_s(path, statement, cwd)
    if run.returncode != 0:
        raise SystemExit(f"`{statement}` failed from the package:\n{run.stderr[-3000:]}")
    return float(run.stdout.strip().splitlines()[-1])


def by_folder(zip_path: Path, top: int = 15) -> list[tuple[str, int, int, int]]:
    """The biggest top-level folders of the zip: (name, compressed bytes, of which .pyc, of which .py)."""
    sizes: dict[str, list[int]] = {}
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            first = info.filename.split("/", 1)[0]
            size = sizes.setdefault("*.dist-info" if first.endswith(".dist-info") else first, [0, 0, 0])
            size[0] += info.compress_size
            if info.filename.endswith(".pyc"):
                size[1] += info.compress_size
            elif info.filename.endswith(".py"):
                size[2] += info.compress_size
    ranked = sorted(sizes.items(), key=lambda kv: -kv[1][0])[:top]
    return [(name, zipped, pyc, py) for name, (zipped, pyc, py) in ranked]


def import_costs(path: list[str], cwd: Path, top: int = 12) -> list[tuple[str, float]]:
    """`python -X importtime`: the self time of `import app`, summed by top-level package (ms)."""
    run = python_s(path, "import app", cwd, ("-X", "importtime"))
    costs: Counter[str] = Counter()
    for line in run.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self" not in line:
            self_us, _cumulative, name = (p.strip() for p in line.removeprefix("import time:").split("|"))
            costs[name.split(".")[0]] += int(self_us) / 1000
    return costs.most_common(top)


def main() -> None:
    parser = argparse.ArgumentParser(description="Lambda package size and cold-start import")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--zip", type=Path, help="measure this deployment.zip instead of building one")
    parser.add_argument("--stage", default="prod")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="package-bench-") as tmp:
        t0 = time.perf_counter()
        zip_path = args.zip or build_package(Path(tmp, "package"), args.stage)
        built = time.perf_counter() - t0
        with zipfile.ZipFile(zip_path) as zf:
            unzipped = sum(i.file_size for i in zf.infolist())
        zipped = zip_path.stat().st_size
        verdict = "ok" if zipped <= GOAL_ZIPPED_MB * MB else "over"
        print(f"package: {zipped / MB:.1f} MB zipped ({verdict}: goal <= {GOAL_ZIPPED_MB} MB), "
              f"{unzipped / MB:.1f} MB unzipped" + ("" if args.zip else f"; built in {built:.0f} s"))
        print("  biggest top-level folders (MB zipped: all, .pyc, .py):")
        for name, size, pyc, py in by_folder(zip_path):
            print(f"    {name:28} {size / MB:5.2f}  {pyc / MB:5.2f}  {py / MB:5.2f}")

        pkg = unzip(zip_path, Path(tmp, "task"))
        runtime = runtime_standin(Path(tmp, "runtime"))
        path = [str(pkg), str(runtime)]
        timed(path, "import app", pkg)  # warm the page cache: every run below reads the same files
        timed([str(runtime)], "import botocore.session", pkg)
        app_ms, base_ms = [], []
        for _ in range(args.runs):  # interleaved, so that the machine's mood hits both alike
            app_ms.append(timed(path, "import app", pkg) * 1000)
            base_ms.append(timed([str(runtime)], "import botocore.session", pkg) * 1000)
        cold, base = statistics.median(app_ms), statistics.median(base_ms)
        verdict = "ok" if cold <= GOAL_COLD_START_MS else "over"
        print(f"cold start: {cold:.0f} ms (median of {args.runs}: `import app` in a fresh python -S, "
              f"package + runtime stand-in), baseline {base:.0f} ms (import botocore.session), "
              f"ratio {cold / base:.2f} ({verdict}: goal <= {GOAL_COLD_START_MS} ms)")
        print("  where the import spends its time (python -X importtime, self time by top-level package):")
        for name, ms in import_costs(path, pkg):
            print(f"    {name:28} {ms:6.1f} ms")


if __name__ == "__main__":
    main()
