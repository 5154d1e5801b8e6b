"""arch-review: reviews pull requests the way a senior ML architect would."""

__version__ = "0.1.0"
