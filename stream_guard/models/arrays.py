"""Array types shared by the model runners (a leaf: the backends import it, it imports none)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
