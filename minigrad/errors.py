"""Every exception minigrad raises on purpose lives here.

Each class also derives from the built-in exception a Python user would expect
(``ShapeError`` is a ``ValueError``, ``BackwardError`` a ``RuntimeError``), so
``except ValueError`` keeps working.
"""


class MinigradError(Exception):
    """Base class of all minigrad errors."""


class ShapeError(MinigradError, ValueError):
    """Shapes that do not fit an op: the message names the op and the shapes."""


class BackwardError(MinigradError, RuntimeError):
    """Misuse of backward: non-scalar output without a gradient, or a freed graph."""


class AnomalyError(MinigradError, FloatingPointError):
    """Raised inside ``detect_anomaly()`` by the first op producing NaN or Inf."""


class GradcheckError(MinigradError, AssertionError):
    """An analytic gradient disagrees with central differences."""


class CheckpointError(MinigradError, OSError):
    """A checkpoint file is missing, truncated, corrupt or does not match."""


class StateDictError(MinigradError, KeyError, RuntimeError):
    """``load_state_dict(strict=True)`` found missing or unexpected keys; the message lists them.

    Also a ``RuntimeError``, the class PyTorch raises for the same mistake.
    """

    def __str__(self) -> str:  # KeyError would repr() the message and escape its newlines
        return str(self.args[0]) if self.args else ""


class StateDictShapeError(ShapeError, StateDictError):
    """``load_state_dict`` found a value whose shape differs from the parameter's.

    A ``ShapeError`` (so a ``ValueError``) and a ``StateDictError`` (so a ``RuntimeError``, as
    in PyTorch); the message names every mismatched key with both shapes.
    """
