"""Exceptions raised for user mistakes and missing resources.

Every message says what went wrong *and what to do*; the command-line tools print the
message alone (no traceback) and exit non-zero.
"""


class HelpersError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""


class DataNotFoundError(HelpersError, FileNotFoundError):
    """A dataset is neither local nor downloadable."""


class ChecksumError(HelpersError):
    """A file's checksum differs from the expected one (corrupt or wrong file)."""


class WeightsNotFoundError(HelpersError, FileNotFoundError):
    """A saved model (weights + record) does not exist."""


class WeightsChecksumError(ChecksumError):
    """A ``.weights.h5`` file does not match the sha256 in its JSON record."""


class PretrainedWeightsUnavailable(HelpersError):
    """ImageNet weights for a backbone can be found neither locally nor online."""


class ImageLoadError(HelpersError):
    """A file could not be read as an image."""


class UnknownNameError(HelpersError, KeyError):
    """An unknown task, architecture or backbone name."""

    def __str__(self):  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""
