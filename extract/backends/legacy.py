"""Legacy word-processor files (.doc Word 97-2003, Kingsoft WPS Writer .wps, RTF): LibreOffice → DOCX → the DOCX backend.

Older archives hold many ``.doc`` files, and WPS Writer saves ``.wps`` files in the same
Word binary (OLE compound document) format.  Neither is parsed here: LibreOffice converts
the file headless to DOCX in a private temporary folder, and the DOCX is read by
``load_docx`` under the same limits.

Provenance convention: a value's ``xpath`` is a place in the *converted* DOCX
(``/body/p[n]``, ``/body/tbl[n]/tr[r]/tc[c]``, as for any DOCX), while ``file`` (the
document's ``source``) names the original ``.doc``/``.wps``.  Converting the same file
with the same LibreOffice again gives the same body, so ``convert_to_docx`` is all a
viewer needs to open the place.  The record's ``format`` is ``doc`` or ``wps``.

The conversion runs with:

- an isolated LibreOffice profile (``-env:UserInstallation``), one per process, so
  parallel workers never share one and the user's own profile is never touched;
- a timeout (``seconds_per_file``, at most ``MAX_CONVERT_SECONDS``); the whole process
  group is killed when it runs over;
- no network: inside ``unshare --net`` (a fresh network namespace with no interfaces)
  where the system allows it, and in any case with a profile that turns off update checks
  and sends any HTTP through a closed local port;
- stdin closed, ``HOME`` and the temporary folder pointed into the private folder.

LibreOffice missing is a per-file error naming what to install.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from ..document import Document, ExtractionError
from ..limits import Limits, describe

# A 1 MB report converts in 1–3 s; a damaged file can make LibreOffice spin.
MAX_CONVERT_SECONDS = 120.0
SOFFICE_ENV = "NIANBAO_SOFFICE"  # path of the soffice binary, when it is not on PATH
INSTALL_HINT = "install it (Debian/Ubuntu: apt-get install libreoffice-writer-nogui; scripts/setup.sh does this as root) or set NIANBAO_SOFFICE"

# Settings written into the private profile before LibreOffice first starts: no update
# check, no online help or extensions, any proxy lookups go to a closed port.
_REGISTRY = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Jobs/Jobs/org.openoffice.Office.Jobs:Job['UpdateCheck']/Arguments"><prop oor:name="AutoCheckEnabled" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetProxyType" oor:op="fuse"><value>1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPProxyName" oor:op="fuse"><value>127.0.0.1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPProxyPort" oor:op="fuse"><value>9</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPSProxyName" oor:op="fuse"><value>127.0.0.1</value></prop></item>
<item oor:path="/org.openoffice.Inet/Settings"><prop oor:name="ooInetHTTPSProxyPort" oor:op="fuse"><value>9</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
</oor:items>
"""


def find_soffice() -> str | None:
    """The soffice binary: $NIANBAO_SOFFICE, else soffice or libreoffice on PATH."""
    configured = os.environ.get(SOFFICE_ENV)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


@functools.cache
def _unshare_prefix() -> tuple[str, ...]:
    """``unshare --net`` (as root, or with an unprivileged user namespace) when it works here."""
    tool = shutil.which("unshare")
    if tool is None:
        return ()
    for prefix in ((tool, "--net"), (tool, "--net", "--map-root-user")):
        try:
            ok = subprocess.run([*prefix, "true"], stdin=subprocess.DEVNULL, capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return prefix
    return ()


_PROFILE: Path | None = None


def _profile() -> Path:
    """This process's private LibreOffice profile (created once: the first start costs ~1 s more)."""
    global _PROFILE
    if _PROFILE is None or not _PROFILE.is_dir():
        root = Path(tempfile.mkdtemp(prefix="nianbao-lo-profile-"))
        user = root / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_REGISTRY, encoding="utf-8")
        atexit.register(shutil.rmtree, root, True)
        _PROFILE = root
    return _PROFILE


def _kind_name(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix if suffix in (".doc", ".wps", ".rtf") else ".doc"


@contextmanager
def convert_to_docx(path: Path, limits: Limits | None = None) -> Iterator[Path]:
    """Convert ``path`` with LibreOffice headless; yields the DOCX, removed when the block ends."""
    limits = limits or Limits.from_env()
    kind = _kind_name(path)
    soffice = find_soffice()
    if soffice is None:
        raise ExtractionError(f"{kind} needs LibreOffice (soffice) to be read, and it is not installed: {INSTALL_HINT}; or convert the file to .docx or PDF")
    timeout = min(float(limits.seconds_per_file), MAX_CONVERT_SECONDS)
    with tempfile.TemporaryDirectory(prefix="nianbao-lo-") as tmp:
        work = Path(tmp)
        # An ASCII name with the suffix LibreOffice's filter detection expects: a WPS Writer
        # file is Word binary, so it goes in as .doc (Microsoft Works .wps files, a
        # different format, are detected by content either way).
        head = _head(path)
        suffix = ".rtf" if head.startswith(b"{\\rtf") else ".doc"
        src = work / f"input{suffix}"
        shutil.copyfile(path, src)
        out = work / "out"
        out.mkdir()
        home = work / "home"
        home.mkdir()
        cmd = [
            *_unshare_prefix(),
            soffice,
            f"-env:UserInstallation={_profile().as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out),
            str(src),
        ]
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "SAL_USE_VCLPLUGIN")}
        env.update(HOME=str(home), TMPDIR=str(work), SAL_USE_VCLPLUGIN="svp", http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9", no_proxy="")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=work, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise ExtractionError(f"{kind}: LibreOffice took longer than {timeout:.0f} s to convert the file to DOCX (a damaged file?)") from None
        finally:
            _kill_group(proc)  # soffice.bin may outlive the launcher; never leave one behind
        converted = out / "input.docx"
        if proc.returncode != 0 or not converted.is_file() or converted.stat().st_size == 0:
            lines = [" ".join(line.split()) for line in (output or b"").decode("utf-8", "replace").splitlines()]
            said = "; ".join(line for line in lines if line and "javaldx" not in line)[-300:]
            raise ExtractionError(
                f"{kind}: LibreOffice could not convert the file to DOCX (exit status {proc.returncode}{'; it said: ' + said if said else ''}); the file is damaged, protected, or not a Word/WPS document"
            )
        size = converted.stat().st_size
        limits.check("max_file_bytes", size, f"{kind} converted to DOCX is {describe(size, 'bytes')}")
        yield converted


def _head(path: Path, n: int = 16) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as exc:
        raise ExtractionError(f"cannot read file: {exc.strerror or exc}") from exc


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def load_legacy(path: Path, source: str, limits: Limits | None = None, fmt: str = "doc") -> Document:
    """A .doc/.wps/RTF file as a Document: converted to DOCX, read by the DOCX backend.

    ``fmt`` is the record's format (``doc``, ``wps`` or ``rtf``); ``source`` stays the
    original file's, so every value's provenance names it (see the module docstring).
    """
    from .docx import load_docx

    limits = limits or Limits.from_env()
    with convert_to_docx(path, limits) as converted:
        try:
            doc = load_docx(converted, source, limits)
        except ExtractionError as exc:
            raise ExtractionError(f"{fmt} (converted to DOCX by LibreOffice): {exc}") from exc
    doc.format = fmt
    return doc
