"""Slim the Lambda deployment zip of `chalice package`, in place (issue 12).

    python scripts/slim_package.py build/package/deployment.zip

1. Leaves out what the Lambda Python runtime already provides and only botocore needs: boto3,
   botocore, s3transfer, jmespath (and their .dist-info): the runtime's copies are imported instead.
   Kept although the runtime has a copy (Lambda puts /var/task, this zip, first on sys.path, so
   ours win), because a dependency of ours needs a version the runtime does not promise: AWS
   documents only its boto3/botocore versions, which change with its SDK updates (the python3.11
   runtime started with botocore 1.30):
   - urllib3 (requests, hence twilio, needs >=1.26; we test and ship 2.x, which botocore accepts
     on Python >= 3.10 and which the runtime's botocore then imports from /var/task too);
   - python-dateutil and six (holidays pins python-dateutil >= 2.9.0.post0).
2. Leaves out the tests/ and docs/ folders of dependencies and their build-only files (.pyi, .pyx,
   .pxd, .c, .h), and the parts of twilio we never import (half of the zip once compiled):
   - its REST domains other than `api` (we call client.messages and client.calls, which are
     twilio.rest.api; Client imports each domain lazily, on first use of its property);
   - aiohttp and its dependencies: only twilio's AsyncTwilioHttpClient imports them, and we use
     its synchronous TwilioHttpClient (slack-sdk needs aiohttp only for its async clients, an
     extra we do not use).
   tests/test_package.py imports the app and drives the twilio Client from the slimmed package.
3. Leaves out the modules of aws-lambda-powertools, pyasn1-modules and slack-sdk that nothing
   reaches: we use Powertools' Logger, Metrics and Tracer (not its event handlers, parsers,
   idempotency… utilities), one RFC of pyasn1-modules (5280, in chalicelib/intake/sns.py), and
   slack-sdk's WebClient and SignatureVerifier (not its socket mode, OAuth, SCIM, audit logs…).
   What is reached is the static import closure of app.py, chalicelib and every module kept
   whole: each `import` and `from … import` anywhere in a module, lazy ones inside functions and
   TYPE_CHECKING ones too (an over-approximation, so safe), except the imports NOT_FOLLOWED
   names, each with why it never runs here; these packages import nothing by a computed name
   that is theirs (Powertools' LazyLoader loads aws_xray_sdk, not in the zip).
   Also holidays' translations of the holiday names (holidays/locale, gettext .mo; the wheel has
   no .po): we read only the dates (chalicelib/rotas/shifts.py), identical without them for every
   country code it lists (501, alpha-2 and alpha-3), 2015-2035 (the names fall back to the English
   source strings, which we never show).
   tests/test_package.py imports every chalicelib module from the slimmed package and calls the
   Logger, the Metrics and the SNS signature check.
4. Strips the symbol tables of the native extensions (`strip --strip-unneeded`, as Linux
   distributions ship them; the dynamic symbols that Python and dlopen use stay): PyYAML's wheel
   comes with its own. Skipped, with a note, without `strip`.
5. Compiles every .py to bytecode for the runtime's Python (the `Runtime` of sam.json beside the
   zip must be this interpreter's version), into __pycache__ beside the sources (tracebacks keep
   their source lines), as unchecked-hash .pyc: no timestamp in the zip can invalidate them, and
   /var/task being read-only, Lambda could not write them at a cold start anyway.
6. Writes the zip deterministically: sorted entries, fixed timestamps, no temp path in the .pyc.
"""
from __future__ import annotations

import argparse
import ast
import compileall
import importlib.util
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

# Top-level modules the runtime provides that only botocore needs (see the docstring).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath"}
# aiohttp and what only it needs: imported by twilio's async HTTP client alone (see the docstring).
ASYNC_ONLY = {"aiohttp", "aiohttp_retry", "aiohappyeyeballs", "aiosignal", "multidict", "yarl",
              "frozenlist", "propcache", "attr", "attrs"}
TWILIO_DOMAINS_USED = {"api"}  # twilio/rest/<domain>/: Client.messages and Client.calls
# Packages of which only the modules reached from our code are kept (see the docstring, 3.).
PRUNED = {"aws_lambda_powertools", "pyasn1_modules", "slack_sdk"}
# Imports of those that the closure does not follow, each with why it never runs here.
NOT_FOLLOWED = {
    # Powertools' web framework (0.8 MB zipped): only shared.functions.pydantic_to_dict imports it,
    # lazily, to dump a Pydantic model; pydantic is not in the package, and its callers are
    # Logger.inject_lambda_context(log_event=True) and shared.json_encoder, which we do not use.
    "aws_lambda_powertools.event_handler",
}
# Data files never read: holidays' translations of the names (we read only the dates).
UNUSED_DATA = ("holidays/locale/",)
# Folders of dependencies that are never imported at run time.
UNUSED_DIRS = {"tests", "test", "docs"}
UNUSED_SUFFIXES = {".pyi", ".pyx", ".pxd", ".c", ".h"}
# Our own code: kept whole.
OURS = {"app.py", "chalicelib"}
LAMBDA_ROOT = "/var/task"  # where the zip is unpacked: the .pyc record their source path there
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644 << 16  # -rw-r--r--


def dist_name(top: str) -> str | None:
    """`botocore-1.44.8.dist-info` -> `botocore`; None when `top` is not a .dist-info folder."""
    if not top.endswith(".dist-info"):
        return None
    return top.removesuffix(".dist-info").rsplit("-", 1)[0].lower().replace("-", "_")


def left_out(name: str) -> str | None:
    """Why the zip entry `name` is left out (a short reason), or None to keep it."""
    path = PurePosixPath(name)
    top = path.parts[0]
    if top in OURS:
        return None
    module = top.removesuffix(".py")
    if module in RUNTIME_PROVIDED or dist_name(top) in RUNTIME_PROVIDED:
        return "provided by the Lambda runtime"
    if module in ASYNC_ONLY or dist_name(top) in ASYNC_ONLY:
        return "aiohttp & co (twilio's async client only)"
    parts = path.parts
    if parts[:2] == ("twilio", "rest") and len(parts) > 3 and parts[2] not in TWILIO_DOMAINS_USED:
        return "twilio REST domains we never call"
    if name.startswith(UNUSED_DATA):
        return "holidays' translations of the holiday names"
    if "__pycache__" in path.parts or path.suffix == ".pyc":
        return "stale bytecode"
    if UNUSED_DIRS & set(path.parts[1:-1]):
        return "tests/docs of dependencies"
    if path.suffix in UNUSED_SUFFIXES:
        return "build-only files"
    return None


def module_name(name: str) -> str:
    """`a/b/c.py` -> `a.b.c`, `a/b/__init__.py` -> `a.b`."""
    parts = PurePosixPath(name).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(name: str, source: bytes) -> set[str]:
    """The modules the source `name` (a zip entry) may import, at any depth of it, relative ones
    resolved, with their parent packages: `from a import b` counts `a` and `a.b` (b may be a
    module), `from a import *` counts `a.*` (any module of a)."""
    module = module_name(name)
    package = module if name.endswith("/__init__.py") else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[:len(parts) - node.level + 1], *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {".".join(parts[:i]) for parts in (dotted.split(".") for dotted in found)
            for i in range(1, len(parts) + 1)}


def unreached(zf: zipfile.ZipFile, names: list[str]) -> set[str]:
    """The entries of PRUNED packages that no import reaches from our code and from the modules
    kept whole (see the docstring, 3.): their modules, and the data files of their packages."""
    def pruned(name: str) -> bool:
        return PurePosixPath(name).parts[0] in PRUNED

    modules = {module_name(n): n for n in names if n.endswith(".py") and pruned(n)}
    needles = tuple(package.encode() for package in PRUNED)
    below = tuple(f"{m}." for m in NOT_FOLLOWED)
    todo: list[str] = []
    for name in names:  # the roots: only a source naming a pruned package can import it
        if name.endswith(".py") and not pruned(name):
            source = zf.read(name)
            if any(needle in source for needle in needles):
                todo.extend(imports_of(name, source))
    reached: set[str] = set()
    while todo:
        module = todo.pop()
        if module.endswith(".*"):
            prefix = module[:-1]
            todo.extend(m for m in modules if m.startswith(prefix) and "." not in m[len(prefix):])
        elif module in NOT_FOLLOWED or module.startswith(below):
            continue
        elif module in modules and module not in reached:
            reached.add(module)
            todo.extend(imports_of(modules[module], zf.read(modules[module])))
    # a data file stays with the package (the folder with an __init__.py) it is in, when reached
    packages = {m for m, n in modules.items() if n.endswith("/__init__.py")}
    dropped = set()
    for name in names:
        if not pruned(name):
            continue
        if name.endswith(".py"):
            keep = module_name(name) in reached
        else:
            folder = ".".join(PurePosixPath(name).parts[:-1])
            while folder and folder not in packages:
                folder = folder.rpartition(".")[0]
            keep = not folder or folder in reached
        if not keep:
            dropped.add(name)
    return dropped


def runtime_tag(zip_path: Path) -> str | None:
    """The `Runtime` of the functions in sam.json beside the zip (`python3.11`), if there is one."""
    sam = zip_path.parent / "sam.json"
    if not sam.exists():
        return None
    template = json.loads(sam.read_text())
    runtimes = {props["Runtime"] for res in template.get("Resources", {}).values()
                if (props := res.get("Properties", {})).get("Runtime")}
    runtimes |= {g["Runtime"] for g in template.get("Globals", {}).values() if g.get("Runtime")}
    if len(runtimes) > 1:
        sys.exit(f"slim_package: several runtimes in {sam}: {sorted(runtimes)}")
    return next(iter(runtimes), None)


def compile_sources(zf: zipfile.ZipFile, names: list[str]) -> tuple[dict[str, bytes], list[str]]:
    """The .pyc of every .py in `names` ({zip name: bytes}), and the sources that do not compile."""
    sources = [n for n in names if n.endswith(".py")]
    with tempfile.TemporaryDirectory(prefix="slim-") as tmp:
        for name in sources:
            zf.extract(name, tmp)
        ok = compileall.compile_dir(
            tmp, quiet=2, workers=0, stripdir=tmp, prependdir=LAMBDA_ROOT,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        compiled: dict[str, bytes] = {}
        failed = []
        for name in sources:
            pyc = importlib.util.cache_from_source(name)  # a/__pycache__/b.cpython-311.pyc
            target = Path(tmp, pyc)
            if target.exists():
                compiled[PurePosixPath(pyc).as_posix()] = target.read_bytes()
            else:
                failed.append(name)
        if not ok and not failed:  # compile_dir failed on something we cannot name
            sys.exit("slim_package: compileall failed")
    return compiled, failed


def strip_natives(zf: zipfile.ZipFile, names: list[str]) -> dict[str, bytes]:
    """The native extensions among `names` without their symbol tables ({zip name: bytes})."""
    natives = [n for n in names if n.endswith(".so") or ".so." in PurePosixPath(n).name]
    strip = shutil.which("strip")
    if not natives or strip is None:
        if natives:
            print("  `strip` not found (binutils): native extensions left with their symbols")
        return {}
    stripped: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory(prefix="slim-") as tmp:
        for name in natives:
            path = zf.extract(name, tmp)
            run = subprocess.run([strip, "--strip-unneeded", path], capture_output=True, text=True)
            if run.returncode == 0:
                stripped[name] = Path(path).read_bytes()
            else:
                print(f"  strip failed on {name}, kept as it is: {run.stderr.strip()[:200]}")
    return stripped


def entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix: the mode bits below are read
    info.external_attr = mode
    return info


def slim(zip_path: Path) -> dict[str, int]:
    """Rewrite `zip_path` in place; the sizes before and after (zipped and unzipped bytes)."""
    tag = runtime_tag(zip_path)
    ours = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if tag is not None and tag != ours:
        sys.exit(f"slim_package: the functions run {tag} but this is {ours}: the .pyc would not be "
                 f"used; run this script with a {tag} interpreter")
    zipped_before = zip_path.stat().st_size
    removed: dict[str, int] = {}
    with zipfile.ZipFile(zip_path) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        kept = []
        for info in infos:
            reason = left_out(info.filename)
            if reason is None:
                kept.append(info)
            else:
                removed[reason] = removed.get(reason, 0) + info.file_size
        dropped = unreached(zf, [i.filename for i in kept])
        if dropped:
            reason = f"modules of {', '.join(sorted(PRUNED))} nothing imports"
            removed[reason] = sum(i.file_size for i in kept if i.filename in dropped)
            kept = [i for i in kept if i.filename not in dropped]
        names = [i.filename for i in kept]
        compiled, failed = compile_sources(zf, names)
        stripped = strip_natives(zf, names)
        # name -> (entry, its new bytes or None to copy the original's)
        files: dict[str, tuple[zipfile.ZipInfo, bytes | None]] = {
            i.filename: (entry(i.filename, i.external_attr or FILE_MODE), stripped.get(i.filename))
            for i in kept}
        files.update({name: (entry(name, FILE_MODE), data) for name, data in compiled.items()})
        out = zip_path.with_name(zip_path.name + ".slim")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as new:
            for name in sorted(files):
                info, data = files[name]
                new.writestr(info, zf.read(name) if data is None else data)
    os.replace(out, zip_path)
    sizes = {"zipped_before": zipped_before, "unzipped_before": sum(i.file_size for i in infos),
             "zipped_after": zip_path.stat().st_size}
    with zipfile.ZipFile(zip_path) as zf:
        sizes["unzipped_after"] = sum(i.file_size for i in zf.infolist())
    mb = 1e6
    for reason, size in sorted(removed.items(), key=lambda kv: -kv[1]):
        print(f"  left out {size / mb:6.1f} MB unzipped: {reason}")
    if stripped:
        saved = sum(zf_info.file_size - len(stripped[zf_info.filename])
                    for zf_info in kept if zf_info.filename in stripped)
        print(f"  stripped {len(stripped)} native extensions: {saved / mb:.1f} MB unzipped less")
    print(f"  compiled {len(compiled)} modules for {ours} (unchecked-hash .pyc in __pycache__)"
          + (f"; {len(failed)} sources do not compile, left as they are: {failed[:5]}" if failed else ""))
    print(f"slim_package: {zip_path}: {sizes['zipped_before'] / mb:.1f} MB zipped -> "
          f"{sizes['zipped_after'] / mb:.1f} MB ({sizes['unzipped_before'] / mb:.1f} MB -> "
          f"{sizes['unzipped_after'] / mb:.1f} MB unzipped)")
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zip", type=Path, help="the deployment.zip of `chalice package`, rewritten in place")
    slim(parser.parse_args().zip)


if __name__ == "__main__":
    main()
