"""her2sim: HER2-positive breast cancer signalling and therapy resistance as an executable model.

Importing the package has no side effects; the engine compiles kernels only when asked to.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("her2sim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
