#!/usr/bin/env bash
# Create .venv and install nianbao with its test extras.  Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
# The review app's browser test drives Debian's Chromium (Playwright's own browser downloads
# are never used), with CJK fonts for its screenshots.  Installed when missing and this user
# may; otherwise that test says so.
if ! command -v chromium >/dev/null 2>&1 || [ ! -d /usr/share/fonts/opentype/noto ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -qq chromium fonts-noto-cjk >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium fonts-noto-cjk >/dev/null 2>&1; }) \
      || echo "setup: could not install Debian's chromium; the review app's browser test needs it" >&2
  else
    echo "setup: Debian's chromium is not installed (apt-get install chromium); the review app's browser test needs it" >&2
  fi
fi
# Legacy .doc and WPS .wps reports are converted to DOCX by LibreOffice headless (Writer
# only, no GUI: ~86 MB download, ~263 MB installed).  Installed when missing and this user
# may; otherwise those files get a per-file error saying what to install.
if ! command -v soffice >/dev/null 2>&1 && ! command -v libreoffice >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # The -nogui build (Debian 12, Ubuntu 22.04 on); the full Writer package where it is missing.
    lo_install() { apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends libreoffice-writer >/dev/null 2>&1; }
    (lo_install || { apt-get update -qq >/dev/null 2>&1 && lo_install; }) \
      || echo "setup: could not install LibreOffice (libreoffice-writer-nogui); .doc/.wps inputs and their test need it" >&2
  else
    echo "setup: LibreOffice is not installed (apt-get install --no-install-recommends libreoffice-writer-nogui); .doc/.wps inputs and their test need it" >&2
  fi
fi
