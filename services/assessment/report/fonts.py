"""A font that has Chinese characters, for the charts (matplotlib) and the PDF (WeasyPrint).

Looked for in this order:
1. ``AQ_REPORT_FONT``: a path to an .otf/.ttf/.ttc file the college prefers;
2. Noto Sans CJK SC from the ``mplfonts`` package (a PyPI dependency of this project, SIL Open Font License);
3. a CJK font the system has (fonts-noto-cjk, fonts-wqy-microhei, ...), as matplotlib finds it.
Without any of them the report still renders, but Chinese shows as empty boxes: ``cjk_font()`` says so.
"""
from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path

SYSTEM_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                   "WenQuanYi Zen Hei", "Droid Sans Fallback", "AR PL UMing CN")
PACKAGED = ("mplfonts", "fonts/NotoSansCJKsc-Regular.otf")


class NoCjkFont(RuntimeError):
    pass


def _packaged() -> Path | None:
    spec = importlib.util.find_spec(PACKAGED[0])
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / PACKAGED[1]
    return path if path.is_file() else None


def _system() -> Path | None:
    from matplotlib import font_manager
    for family in SYSTEM_FAMILIES:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        if path:
            return Path(path)
    return None


@lru_cache(maxsize=1)
def cjk_font_path() -> Path | None:
    configured = os.environ.get("AQ_REPORT_FONT")
    if configured and Path(configured).is_file():
        return Path(configured)
    return _packaged() or _system()


def cjk_font() -> Path:
    path = cjk_font_path()
    if path is None:
        raise NoCjkFont("no font with Chinese characters: install the project's dependencies (mplfonts) or a "
                        "CJK font (apt-get install fonts-noto-cjk), or set AQ_REPORT_FONT to a font file")
    return path


@lru_cache(maxsize=1)
def matplotlib_family() -> str:
    """Register the CJK font with matplotlib and make it the default family; returns the family name."""
    from matplotlib import font_manager, rcParams
    path = cjk_font()
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    rcParams["font.family"] = "sans-serif"
    rcParams["font.sans-serif"] = [name, "DejaVu Sans"]
    rcParams["axes.unicode_minus"] = False      # CJK fonts often lack U+2212
    return name
