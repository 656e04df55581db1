"""hecha 核查: nightly reconciliation of county social-assistance extracts.

The code lives in the project's top-level folders (extracts/, matching/,
checks/, audit/, reports/, flows/, config/, storage/, sql/, screen/); installed, they are
the subpackages hecha.extracts, hecha.matching, … so that hecha claims no
generic top-level module name. Run from the source tree, this package looks
for its subpackages in those folders.
"""

from pathlib import Path

_SOURCE_TREE = Path(__file__).resolve().parent.parent
if (_SOURCE_TREE / "pyproject.toml").is_file() and (_SOURCE_TREE / "flows" / "__init__.py").is_file():
    __path__.append(str(_SOURCE_TREE))
